import type { Caller } from "../auth/caller";
import type { Config } from "../config";
import { InvalidRequestError } from "../http/errors";
import type { Conversation } from "../messages/conversation";
import type { ChatMessage, ChatRequest } from "../messages/schema";
import { isForbiddenImageHost } from "./image-host";
import { refuseMessageFields, refuseStreamOptions } from "./widget-policy-fields";

/**
 * What a browser widget may set. Anything else (service_tier, store, metadata, logit_bias,
 * prediction, a provider's extension...) could raise the bill or the blast radius of a hostile
 * page, so it is refused by name rather than passed on. Trusted API-key callers pass anything.
 */
const WIDGET_FIELDS = new Set([
  "model",
  "messages",
  "stream",
  "stream_options",
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "presence_penalty",
  "frequency_penalty",
  "seed",
  "response_format",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "n",
  "user",
]);

/**
 * Why a content part may not come from a widget, or undefined if it may: text, and images by
 * https or data URL (whose size the message byte limit bounds). Anything else names something in
 * the operator's provider account (`file` ids), a fetch the provider makes for a hostile page
 * (`http://169.254.169.254/`), or a part type nobody has reviewed.
 */
function refusedPart(part: { type: string; image_url?: unknown }): string | undefined {
  if (part.type === "text") return undefined;
  if (part.type !== "image_url") return `content parts of type '${part.type.slice(0, 40)}' are not accepted from widget tokens`;
  const image = part.image_url as { url?: unknown } | string | undefined;
  const url = typeof image === "string" ? image : image?.url;
  if (typeof url === "string" && /^data:image\/[a-z0-9.+-]+;base64,/i.test(url)) return undefined;
  if (typeof url !== "string" || !/^https:\/\//i.test(url)) return "images from widget tokens must be https:// or data:image/ URLs";
  if (isForbiddenImageHost(url)) return "images from widget tokens may not name a link-local or metadata host";
  return undefined;
}

/**
 * Refuses the first content part a widget may not send, or field inside a message or part the
 * schema does not name; `param` names where the messages came from.
 */
export function refuseParts(messages: readonly ChatMessage[], param = "messages"): void {
  refuseMessageFields(messages, param);
  messages.forEach((message, index) => {
    if (!Array.isArray(message.content)) return;
    message.content.forEach((part, partIndex) => {
      const reason = refusedPart(part);
      if (reason) {
        throw new InvalidRequestError(`${reason[0]!.toUpperCase()}${reason.slice(1)}.`, {
          param: `${param}[${index}].content[${partIndex}]`,
          code: "content_part_not_allowed",
        });
      }
    });
  });
}

/** A widget's request limits: the stricter of the deployment's and the widget's. */
export function requestLimits(caller: Caller, config: Config): Pick<Config["limits"], "maxMessages" | "maxMessageBytes"> {
  if (caller.kind !== "widget") return config.limits;
  return {
    maxMessages: Math.min(config.limits.maxMessages, config.widget.maxMessages),
    maxMessageBytes: Math.min(config.limits.maxMessageBytes, config.widget.maxMessageBytes),
  };
}

/**
 * Applies what a widget token may and may not do: no system or developer messages (the
 * operator's prompt stands), only the content parts and fields above, and an answer no longer than
 * WIDGET_MAX_TOKENS (a larger ask is lowered to it, a missing one set to it). `param` names the
 * request's messages in errors: `input` for a Responses request.
 */
export function applyWidgetPolicy(request: ChatRequest, conversation: Conversation, caller: Caller, widget: Config["widget"], param = "messages"): ChatRequest {
  if (caller.kind !== "widget") return request;
  if (conversation.instructions.length > 0) {
    throw new InvalidRequestError("System and developer messages are not accepted from widget tokens.", {
      param,
      code: "instructions_not_allowed",
    });
  }
  refuseParts(request.messages, param);
  const refused = Object.keys(request).find((field) => !WIDGET_FIELDS.has(field));
  if (refused) {
    throw new InvalidRequestError(`'${refused}' is not accepted from widget tokens.`, { param: refused, code: "field_not_allowed" });
  }
  refuseStreamOptions(request.stream_options);
  // The client's `user` names nobody we trust; the token does.
  const { user: _ignored, ...capped } = request;
  let asked = false;
  for (const field of ["max_tokens", "max_completion_tokens"] as const) {
    const value = capped[field];
    if (value === undefined || value === null) continue;
    // A string "100000" would slip past a numeric cap, and some servers accept it as a number.
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      throw new InvalidRequestError(`${field} must be a positive integer.`, { param: field });
    }
    capped[field] = Math.min(value, widget.maxTokens);
    asked = true;
  }
  if (!asked) capped.max_tokens = widget.maxTokens;
  return capped;
}
