import type { AssistantMessage } from "../messages/reply";
import type { ChatMessage } from "../messages/schema";
import { messageText } from "../messages/text";
import { newId } from "./ids";

// Type aliases, not interfaces: listings hold them as plain records (ListedItem).
export type MessageOutput = {
  type: "message";
  id: string;
  status: "in_progress" | "completed" | "incomplete";
  role: "assistant";
  content: Array<{ type: "output_text"; text: string; annotations: never[]; logprobs: never[] }>;
};

export type FunctionCallOutput = {
  type: "function_call";
  id: string;
  status: "in_progress" | "completed" | "incomplete";
  call_id: string;
  name: string;
  arguments: string;
};

export type OutputItem = MessageOutput | FunctionCallOutput;

export const outputText = (text: string) => ({ type: "output_text" as const, text, annotations: [], logprobs: [] });

/**
 * An assistant message as Responses items: its text as one message (an empty one when there are
 * no tool calls either), then one item per tool call. `idOf` names each (`n`: the call's index).
 */
function assistantItems(message: AssistantMessage, idOf: (kind: "msg" | "fc", n: number) => string, status: OutputItem["status"]): OutputItem[] {
  const items: OutputItem[] = [];
  const text = messageText(message);
  if (text || !message.tool_calls?.length) items.push({ type: "message", id: idOf("msg", 0), status, role: "assistant", content: [outputText(text)] });
  message.tool_calls?.forEach((call, n) => {
    items.push({ type: "function_call", id: idOf("fc", n), status, call_id: call.id, name: call.function?.name ?? "", arguments: call.function?.arguments ?? "" });
  });
  return items;
}

/** A reply as Responses output items, with fresh ids that name its session. */
export function outputOf(reply: AssistantMessage, session: string | undefined, status: OutputItem["status"] = "completed"): OutputItem[] {
  return assistantItems(reply, (kind) => newId(kind, session), status);
}

export type ListedItem = Record<string, unknown> & { id: string; type: string };

/**
 * Stored messages as the items the Conversations API lists (and input_items shows). `idOf` names
 * each (by the message's index here and, for tool calls, the call's), so the same message keeps
 * its id from one listing to the next.
 */
export function itemsOf(messages: readonly ChatMessage[], idOf: (kind: "msg" | "fc" | "fco", index: number, call: number) => string): ListedItem[] {
  const items: ListedItem[] = [];
  messages.forEach((message, index) => {
    const id = (kind: "msg" | "fc" | "fco", call = 0) => idOf(kind, index, call);
    switch (message.role) {
      case "assistant":
        items.push(...assistantItems(message, id, "completed"));
        return;
      case "tool":
        items.push({ type: "function_call_output", id: id("fco"), status: "completed", call_id: message.tool_call_id, output: messageText(message) });
        return;
      case "function":
        return;
      default:
        items.push({ type: "message", id: id("msg"), status: "completed", role: message.role, content: [{ type: "input_text", text: messageText(message) }] });
    }
  });
  return items;
}
