import type { ChatMessage } from "../messages/schema";
import { utf8Length } from "../http/utf8";
import { InvalidRequestError, UpstreamError } from "../http/errors";

/**
 * Upstash refuses requests over 1 MB. A turn's save (its messages, JSON-encoded once to be stored
 * and again inside the request) stays well under, with room for the commands around it.
 */
export const SAVE_BUDGET_BYTES = 768 * 1024;

const TRUNCATED = " …[truncated]";

/** Bytes a stored message takes inside the save request: JSON inside JSON, escapes doubled. */
export function savedSize(message: ChatMessage): number {
  return utf8Length(JSON.stringify(JSON.stringify(message)));
}

/** `text` cut to `maxBytes` of UTF-8 (at a character boundary), marked as cut; as it is if it fits. */
export function cutText(text: string, maxBytes: number): string {
  if (utf8Length(text) <= maxBytes) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    const size = utf8Length(char);
    if (bytes + size > maxBytes - utf8Length(TRUNCATED)) break;
    bytes += size;
    end += char.length;
  }
  return text.slice(0, end) + TRUNCATED;
}

/** The message with its text cut to `maxBytes` of UTF-8, marked as cut. */
export function truncateText(message: ChatMessage, maxBytes: number): ChatMessage {
  const content = message.content;
  if (typeof content !== "string" || utf8Length(content) <= maxBytes) return message;
  return { ...message, content: cutText(content, maxBytes) } as ChatMessage;
}

/** What a save has left for anything else it carries once `messages` are in it. */
export function budgetLeft(messages: readonly ChatMessage[]): number {
  return SAVE_BUDGET_BYTES - messages.reduce((sum, message) => sum + savedSize(message), 0);
}

/**
 * Refuses, before anything is spent on it, a new turn that could not be saved with a reply of
 * the longest length we store: better a 413 now than an answer the next turn cannot remember.
 */
export function assertTurnFits(newTurn: readonly ChatMessage[], maxReplyBytes: number): void {
  const reply = 2 * maxReplyBytes; // worst case: every character escaped
  const turn = newTurn.reduce((sum, message) => sum + savedSize(message), 0);
  if (turn + reply > SAVE_BUDGET_BYTES) {
    throw new InvalidRequestError(`This turn is too large to remember (about ${turn} bytes stored; at most ${SAVE_BUDGET_BYTES - reply}).`, {
      status: 413,
      param: "messages",
      code: "turn_too_large",
    });
  }
}

/**
 * What a save writes: the turn whole (texts cut to `maxTextBytes`), preceded by as much of the
 * seed (the client's earlier messages, for a new session) as fits the budget and the storage cap,
 * most recent first. A reply that does not fit even so (thousands of tool calls: their arguments
 * are JSON, which cutting would break) fails the turn, which then stores nothing.
 */
export function fitSave(seed: readonly ChatMessage[], turn: readonly ChatMessage[], maxTextBytes: number, maxStored: number): ChatMessage[] {
  const kept = turn.map((message) => truncateText(message, maxTextBytes));
  let budget = budgetLeft(kept);
  if (budget < 0) {
    throw new UpstreamError(502, "The model's reply is too large to remember (too many or too large tool calls); nothing was stored.", {
      code: "reply_too_large",
    });
  }
  const earlier: ChatMessage[] = [];
  for (let i = seed.length - 1; i >= 0 && earlier.length + kept.length < maxStored; i--) {
    const message = truncateText(seed[i]!, maxTextBytes);
    budget -= savedSize(message);
    if (budget < 0) break;
    earlier.unshift(message);
  }
  return [...earlier, ...kept];
}
