import { InvalidRequestError } from "../http/errors";
import type { ChatMessage } from "../messages/schema";
import { estimateMessageTokens, estimateTokens, type CountTokens } from "../messages/tokens";

export interface WindowInput {
  system: ChatMessage;
  /** Recalled excerpts of other sessions: after the system message, counted in the budget, left out if even the new turn does not fit with it. */
  recall?: ChatMessage | undefined;
  /** Stored history, oldest first. */
  history: readonly ChatMessage[];
  newTurn: readonly ChatMessage[];
  /** Counting the system message: a window of 20 is the system message and 19 others. */
  maxMessages: number;
  /** Budget for the whole prompt. */
  maxTokens: number;
  /** How a text's tokens are counted: the fast estimate unless an exact tokenizer is configured. */
  countTokens?: CountTokens;
}

export interface Window {
  messages: ChatMessage[];
  /** Whether the recall message is in it. */
  recalled: boolean;
  kept: number;
  dropped: number;
  estimatedTokens: number;
}

/** A tool result, or a legacy function result: an answer to a call the assistant made before it. */
function answersACall(message: ChatMessage | undefined): boolean {
  return message?.role === "tool" || message?.role === "function";
}

/**
 * Where the history the new turn cannot do without begins. Tool results answer the assistant's
 * tool_calls at the end of history; sent without them (and the user message that led there)
 * the upstream would reject the request.
 */
function requiredStart(history: readonly ChatMessage[], newTurn: readonly ChatMessage[]): number {
  if (!answersACall(newTurn[0])) return history.length;
  const lastUser = history.findLastIndex((message) => message.role === "user");
  if (lastUser >= 0) return lastUser;
  const lastAssistant = history.findLastIndex((message) => message.role === "assistant");
  return lastAssistant >= 0 ? lastAssistant : history.length;
}

/**
 * The sliding window: the system message and the new turn always, then as much of the most recent
 * history as the message count and token budget allow. When history has to be cut, the cut falls
 * just before a user message, so a window never opens mid-exchange and an assistant's tool_calls
 * and their tool results are kept or dropped together.
 */
export function slideWindow(input: WindowInput): Window {
  const { system, history, newTurn, maxMessages, maxTokens, countTokens = estimateTokens } = input;
  const always = [system, ...newTurn].reduce((sum, message) => sum + estimateMessageTokens(message, countTokens), 0);
  const recallTokens = input.recall ? estimateMessageTokens(input.recall, countTokens) : 0;
  const recall = input.recall && always + recallTokens <= maxTokens ? input.recall : undefined;
  const fixed = always + (recall ? recallTokens : 0);
  const leading = recall ? 2 : 1;
  const required = requiredStart(history, newTurn);

  let tokens = fixed;
  let best = history.length;
  let bestTokens = fixed;
  for (let i = history.length - 1; i >= 0; i--) {
    tokens += estimateMessageTokens(history[i]!, countTokens);
    const mustKeep = i >= required;
    const count = leading + (history.length - i) + newTurn.length;
    if (!mustKeep && (tokens > maxTokens || count > maxMessages)) break;
    const role = history[i]!.role;
    // All of history may stand as it is, unless it opens with tool results whose call was trimmed away.
    if (mustKeep || role === "user" || (i === 0 && !answersACall(history[i]))) {
      best = i;
      bestTokens = tokens;
    }
  }
  if (bestTokens > maxTokens) {
    throw new InvalidRequestError(
      `This turn needs about ${bestTokens} tokens, more than this proxy's budget of ${maxTokens} (HISTORY_MAX_TOKENS). Send a shorter message.`,
      { param: "messages", code: "context_length_exceeded" },
    );
  }
  return {
    messages: [system, ...(recall ? [recall] : []), ...history.slice(best), ...newTurn],
    recalled: recall !== undefined,
    kept: history.length - best,
    dropped: best,
    estimatedTokens: bestTokens,
  };
}
