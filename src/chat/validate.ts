import type { Config } from "../config";
import { InvalidRequestError } from "../http/errors";
import { chatRequest, type ChatRequest } from "../messages/schema";
import { utf8Length } from "../http/utf8";
import { invalidRequestFrom } from "../http/zod-issue";

/** The request as OpenAI's Chat Completions API defines it, within this deployment's limits. */
export function parseChatRequest(body: unknown, limits: Pick<Config["limits"], "maxMessages" | "maxMessageBytes">): ChatRequest {
  if (Array.isArray(body) || typeof body !== "object" || body === null) {
    throw new InvalidRequestError("The request body must be a JSON object.");
  }
  const messages = (body as { messages?: unknown }).messages;
  if (Array.isArray(messages) && messages.length > limits.maxMessages) {
    throw new InvalidRequestError(`Too many messages: at most ${limits.maxMessages} per request.`, { param: "messages" });
  }
  const parsed = chatRequest.safeParse(body);
  if (!parsed.success) throw invalidRequestFrom(parsed.error.issues);
  const request = parsed.data;
  request.messages.forEach((message, index) => {
    if (utf8Length(JSON.stringify(message)) > limits.maxMessageBytes) {
      throw new InvalidRequestError(`messages[${index}] is larger than ${limits.maxMessageBytes} bytes.`, {
        status: 413,
        param: `messages[${index}]`,
        code: "message_too_large",
      });
    }
  });
  if (request.n !== undefined && request.n !== null && request.n !== 1) {
    throw new InvalidRequestError("Only n = 1 is supported: a conversation has one reply per turn.", { param: "n" });
  }
  return request;
}
