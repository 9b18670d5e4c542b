import type { ChatMessage } from "../chat/schema";
import { messageText } from "../chat/text";

/** What every message costs beyond its text in OpenAI's chat format (role, separators). */
const MESSAGE_OVERHEAD = 4;

/**
 * A fast, deliberately generous token estimate. BPE tokenizers give English about four characters
 * per token, while CJK and other non-Latin scripts cost about a token per character, so counting
 * only characters / 4 would overflow the context window for much of a global audience.
 */
export function estimateTokens(text: string): number {
  let ascii = 0;
  let wide = 0;
  let other = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) ascii++;
    else if ((code >= 0x2e80 && code <= 0xd7ff) || (code >= 0xf900 && code <= 0xfaff) || (code >= 0xff00 && code <= 0xffef)) wide++;
    else if (code >= 0xd800 && code <= 0xdbff) {
      wide++; // emoji and other astral characters: a code point is at least a token
      i++;
    } else other++;
  }
  return Math.ceil(ascii / 4 + other / 2 + wide);
}

export function estimateMessageTokens(message: ChatMessage): number {
  let tokens = MESSAGE_OVERHEAD + estimateTokens(messageText(message));
  if (message.role === "assistant" && message.tool_calls) {
    for (const call of message.tool_calls) {
      tokens += MESSAGE_OVERHEAD + estimateTokens(call.function?.name ?? "") + estimateTokens(call.function?.arguments ?? "");
    }
  }
  return tokens;
}
