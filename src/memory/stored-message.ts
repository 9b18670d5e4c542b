import type { AssistantMessage } from "../messages/reply";
import type { ChatMessage } from "../messages/schema";
import { messageText } from "../messages/text";

/**
 * What a session keeps of a message: role, text and tool (or legacy function) wiring. Images,
 * audio and files are named, not stored: Redis holds conversation text, and a request must stay
 * well under Upstash's 1 MB limit. Unknown fields are dropped so history replays cleanly to any
 * upstream.
 */
export function toStoredMessage(message: ChatMessage): ChatMessage {
  switch (message.role) {
    case "assistant": {
      // A refusal is what the assistant said, when it said nothing else.
      const text = messageText(message) || (typeof message.refusal === "string" ? message.refusal : "");
      const call = message.function_call;
      return {
        role: "assistant",
        content: text || (message.tool_calls?.length || call ? null : ""),
        ...(message.tool_calls?.length ? { tool_calls: message.tool_calls.map(storedToolCall) } : {}),
        // Legacy function calling: the `function` message that follows answers this call.
        ...(call ? { function_call: { name: call.name, arguments: call.arguments } } : {}),
      };
    }
    case "tool":
      return { role: "tool", tool_call_id: message.tool_call_id, content: messageText(message) };
    case "function":
      return { role: "function", name: message.name, content: message.content };
    default:
      return { role: message.role, content: messageText(message), ...(message.name ? { name: message.name } : {}) };
  }
}

function storedToolCall(call: NonNullable<Extract<ChatMessage, { role: "assistant" }>["tool_calls"]>[number]) {
  return {
    id: call.id,
    type: call.type,
    ...(call.function ? { function: { name: call.function.name, arguments: call.function.arguments } } : {}),
  };
}

/** Stored list elements back to messages; an element that cannot be read is skipped, not fatal. */
export function parseStoredMessages(raw: unknown): ChatMessage[] {
  if (!Array.isArray(raw)) return [];
  const messages: ChatMessage[] = [];
  for (const item of raw) {
    try {
      messages.push(JSON.parse(String(item)) as ChatMessage);
    } catch {
      // skipped
    }
  }
  return messages;
}

/**
 * A stored reply (from a committed turn's Idempotency-Key), read back as an assistant message, or
 * undefined when it is not one: a retry is then treated as a new turn rather than answered with
 * something that is not a reply.
 */
export function parseStoredReply(raw: unknown): AssistantMessage | undefined {
  if (typeof raw !== "string") return undefined;
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const message = value as { role?: unknown; content?: unknown; tool_calls?: unknown } | null;
  if (message?.role !== "assistant") return undefined;
  if (typeof message.content !== "string" && message.content !== null) return undefined;
  if (message.tool_calls !== undefined && !Array.isArray(message.tool_calls)) return undefined;
  return value as AssistantMessage;
}
