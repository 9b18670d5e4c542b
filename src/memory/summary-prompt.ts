import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { ChatMessage } from "../chat/schema";
import { messageText } from "../chat/text";

/**
 * What the summariser is told. The mock model of the local stack recognises calls by this opening,
 * so keep the two in step (dev/mock-llm/script.ts).
 */
export const SUMMARY_INSTRUCTION =
  "You maintain the running summary of a conversation between a user and an assistant. Fold the new messages into the previous summary. Keep every durable fact about the user, their goals and decisions, names and numbers; drop small talk. Answer with the new summary only, as plain text.";

/** The summariser's request: the previous summary and the messages to fold, as a transcript. */
export function summaryRequest(previous: string | undefined, messages: readonly ChatMessage[]): ChatCompletionMessageParam[] {
  const transcript = messages
    .map((message) => {
      const calls = message.role === "assistant" && message.tool_calls?.length ? ` [called ${message.tool_calls.map((c) => c.function?.name ?? c.type).join(", ")}]` : "";
      return `${message.role}: ${messageText(message)}${calls}`;
    })
    .join("\n");
  return [
    { role: "system", content: SUMMARY_INSTRUCTION },
    { role: "user", content: `Previous summary:\n${previous?.trim() || "(none)"}\n\nNew messages:\n${transcript}` },
  ];
}

/** A summary within its budget: a model may ignore max_tokens, and the summary goes into every prompt. */
export function capSummary(text: string, maxTokens: number): string {
  const maxChars = maxTokens * 4;
  const trimmed = text.trim();
  return trimmed.length <= maxChars ? trimmed : `${trimmed.slice(0, maxChars)} …`;
}
