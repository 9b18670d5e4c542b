import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { ChatMessage } from "../messages/schema";
import { messageText } from "../messages/text";
import { estimateTokens } from "../messages/tokens";

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

const CUT = " …";

/**
 * A summary within its budget, in tokens as the window counts them (a model may ignore max_tokens,
 * and the summary goes into every prompt): a cap in characters would let a summary in Japanese, or
 * of digits, run to several times it.
 */
export function capSummary(text: string, maxTokens: number): string {
  const trimmed = text.trim();
  if (estimateTokens(trimmed) <= maxTokens) return trimmed;
  // The longest cut that fits, found by halving: the estimate only grows with the text.
  let fits = 0;
  let tooLong = trimmed.length;
  while (tooLong - fits > 1) {
    const middle = (fits + tooLong) >> 1;
    if (estimateTokens(cutAt(trimmed, middle) + CUT) <= maxTokens) fits = middle;
    else tooLong = middle;
  }
  return cutAt(trimmed, fits).trimEnd() + CUT;
}

/** The first `length` UTF-16 units of `text`, without half of a surrogate pair at the end. */
function cutAt(text: string, length: number): string {
  const code = text.charCodeAt(length - 1);
  return text.slice(0, code >= 0xd800 && code <= 0xdbff ? length - 1 : length);
}
