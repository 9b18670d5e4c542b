import type { ChatMessage } from "./schema";

/** The text a message carries; parts that are not text (images, audio, files) are named, not copied. */
export function messageText(message: ChatMessage): string {
  const content = message.content;
  if (typeof content === "string") return content;
  if (!content) return "";
  return content
    .map((part) => (typeof part.text === "string" ? part.text : typeof part.refusal === "string" ? part.refusal : `[${part.type}]`))
    .join("\n");
}

/** Text of the client's system/developer messages, in order. */
export function instructionText(messages: readonly ChatMessage[]): string {
  return messages.map(messageText).join("\n\n");
}
