import { InvalidRequestError } from "../http/errors";
import type { ChatMessage } from "../messages/schema";

/**
 * The fields a browser widget may set inside its messages, by role, and inside their parts: the
 * schema's own, nothing else. A message's `attachments` or `cache_control`, a text part's `file`
 * or `image_url`, would otherwise reach the provider verbatim, and each names something a hostile
 * page should not choose (a file in the operator's account, a provider's caching bill).
 */
const MESSAGE_FIELDS: Record<ChatMessage["role"], ReadonlySet<string>> = {
  system: new Set(["role", "content", "name"]),
  developer: new Set(["role", "content", "name"]),
  user: new Set(["role", "content", "name"]),
  // Echoed back by clients that resend the conversation: the SDKs' own reply objects carry these.
  assistant: new Set(["role", "content", "name", "tool_calls", "function_call", "refusal"]),
  tool: new Set(["role", "content", "tool_call_id"]),
  function: new Set(["role", "content", "name"]),
};
const PART_FIELDS: Record<string, ReadonlySet<string>> = {
  text: new Set(["type", "text"]),
  image_url: new Set(["type", "image_url"]),
};
const IMAGE_FIELDS = new Set(["url", "detail"]);
const TOOL_CALL_FIELDS = new Set(["id", "type", "function"]);
const FUNCTION_FIELDS = new Set(["name", "arguments"]);
const STREAM_OPTIONS = new Set(["include_usage"]);

const extraField = (value: unknown, allowed: ReadonlySet<string>): string | undefined =>
  value !== null && typeof value === "object" && !Array.isArray(value) ? Object.keys(value).find((key) => !allowed.has(key)) : undefined;

function refuse(param: string, field: string): never {
  throw new InvalidRequestError(`'${field.slice(0, 64)}' is not accepted from widget tokens.`, { param: `${param}.${field.slice(0, 64)}`, code: "field_not_allowed" });
}

/** Refuses the first field inside a widget's messages (and their parts and tool calls) that the schema does not name. */
export function refuseMessageFields(messages: readonly ChatMessage[], param: string): void {
  messages.forEach((message, index) => {
    const at = `${param}[${index}]`;
    const extra = extraField(message, MESSAGE_FIELDS[message.role]);
    if (extra) refuse(at, extra);
    if (Array.isArray(message.content)) {
      message.content.forEach((part, partIndex) => {
        const fields = PART_FIELDS[part.type];
        // A part type of its own is refused, with its reason, by the content-part check.
        if (!fields) return;
        const extraPart = extraField(part, fields) ?? ("image_url" in part ? extraField(part.image_url, IMAGE_FIELDS) : undefined);
        if (extraPart) refuse(`${at}.content[${partIndex}]`, extraPart);
      });
    }
    if (message.role === "assistant") {
      message.tool_calls?.forEach((call, callIndex) => {
        const extraCall = extraField(call, TOOL_CALL_FIELDS) ?? extraField(call.function, FUNCTION_FIELDS);
        if (extraCall) refuse(`${at}.tool_calls[${callIndex}]`, extraCall);
      });
      const extraCall = extraField(message.function_call, FUNCTION_FIELDS);
      if (extraCall) refuse(`${at}.function_call`, extraCall);
    }
  });
}

/** `stream_options` from a widget: `include_usage` alone (a provider's extensions are not the page's to set). */
export function refuseStreamOptions(options: unknown): void {
  const extra = extraField(options, STREAM_OPTIONS);
  if (extra) refuse("stream_options", extra);
}
