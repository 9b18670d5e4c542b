import type { ChatMessage } from "./schema";
import { messageText } from "./text";

/** What every message costs beyond its text in OpenAI's chat format (role, separators). */
const MESSAGE_OVERHEAD = 4;

/**
 * A fast, deliberately generous token estimate. BPE tokenizers give English words about four
 * characters per token, but punctuation and digits (code, JSON) about two, CJK and other non-Latin
 * scripts about a token per character or two, and an emoji two or more: counting characters / 4
 * would overflow the context window for much of a global audience. Measured against o200k on a
 * fixed corpus in tokens.test.ts.
 */
export function estimateTokens(text: string): number {
  let letters = 0;
  let symbols = 0;
  let wide = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) {
      if ((code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || code === 0x20) letters++;
      else symbols++;
    } else if ((code >= 0x2e80 && code <= 0xd7ff) || (code >= 0xf900 && code <= 0xfaff) || (code >= 0xff00 && code <= 0xffef)) wide++;
    else if (code >= 0xd800 && code <= 0xdbff) {
      wide += 2; // emoji and other astral characters: two tokens or more each
      i++;
    } else other++;
  }
  return Math.ceil(letters / 4 + symbols / 2 + other / 2 + wide);
}

/** Tokens of a text: the estimate above, or an exact tokenizer's count (TOKENIZER=exact). */
export type CountTokens = (text: string) => number;

/** A message's tokens: its text, its tool calls, and the format's overhead, counted with `count`. */
export function estimateMessageTokens(message: ChatMessage, count: CountTokens = estimateTokens): number {
  let tokens = MESSAGE_OVERHEAD + count(messageText(message));
  if (message.role === "assistant" && message.tool_calls) {
    for (const call of message.tool_calls) {
      tokens += MESSAGE_OVERHEAD + count(call.function?.name ?? "") + count(call.function?.arguments ?? "");
    }
  }
  if (message.role === "assistant" && message.function_call) {
    tokens += MESSAGE_OVERHEAD + count(message.function_call.name) + count(message.function_call.arguments);
  }
  return tokens;
}
