import type { Caller } from "../auth/caller";
import type { Config } from "../config";
import { InvalidRequestError } from "../http/errors";
import { utf8Length } from "../http/utf8";
import { invalidRequestFrom } from "../http/zod-issue";
import { schemas, type ResponsesRequest } from "./schema";


/** OpenAI's own bound on tools per request. */
const MAX_TOOLS = 128;

/**
 * What a browser widget may set, as for chat: the common fields. The rest (service tiers, cache
 * keys, reasoning effort, logprobs) could raise the bill of a hostile page, and is refused by name.
 */
const WIDGET_FIELDS = new Set([
  "model",
  "input",
  "instructions",
  "stream",
  "store",
  "previous_response_id",
  "conversation",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "max_output_tokens",
  "temperature",
  "top_p",
  "text",
  "metadata",
  "user",
  "truncation",
  "include",
  "stream_options",
]);

/** Refuses, by name, a field a widget token may not set. */
export function refuseWidgetFields(request: ResponsesRequest, caller: Caller): void {
  if (caller.kind !== "widget") return;
  if (request.instructions) {
    throw new InvalidRequestError("instructions are not accepted from widget tokens: the operator's prompt stands.", { param: "instructions", code: "instructions_not_allowed" });
  }
  const refused = Object.entries(request).find(([field, value]) => value !== undefined && value !== null && !WIDGET_FIELDS.has(field));
  if (refused) throw new InvalidRequestError(`'${refused[0]}' is not accepted from widget tokens.`, { param: refused[0], code: "field_not_allowed" });
  if (request.text?.verbosity) throw new InvalidRequestError("'text.verbosity' is not accepted from widget tokens.", { param: "text.verbosity", code: "field_not_allowed" });
}

/** Nested objects whose fields this proxy honours one by one (as keys): any other field in them is refused by name too. */
const NESTED_FIELDS: Record<string, object> = { text: { format: true, verbosity: true }, reasoning: { effort: true } };

/**
 * Refuses, by name, the first field of `body` that is not a key of `known` (a schema's shape), unless
 * it is null (SDKs send unset options as null): a field silently dropped is a behaviour the client
 * did not get.
 */
export function refuseUnknownFields(body: object, known: object, prefix = ""): void {
  for (const [field, value] of Object.entries(body)) {
    if (!Object.hasOwn(known, field) && value !== null) {
      const param = `${prefix}${field}`.slice(0, 64);
      throw new InvalidRequestError(`'${param}' is not supported by this proxy.`, { param, code: "unsupported_parameter" });
    }
  }
}

/**
 * A Responses request within this deployment's limits. A field this proxy does not honour is a
 * 400 that names it, unless it is null (SDKs send unset options as null).
 */
export function parseResponsesRequest(body: unknown, limits: Pick<Config["limits"], "maxMessages" | "maxMessageBytes">): ResponsesRequest {
  if (Array.isArray(body) || typeof body !== "object" || body === null) {
    throw new InvalidRequestError("The request body must be a JSON object.");
  }
  const { responsesRequest } = schemas();
  refuseUnknownFields(body, responsesRequest.shape);
  for (const [field, known] of Object.entries(NESTED_FIELDS)) {
    const value: unknown = Object.hasOwn(body, field) ? (body as Record<string, unknown>)[field] : undefined;
    if (typeof value === "object" && value !== null && !Array.isArray(value)) refuseUnknownFields(value, known, `${field}.`);
  }
  if ((body as { background?: unknown }).background === true) {
    throw new InvalidRequestError("Background responses are not supported by this proxy: every response is answered in its request.", { param: "background", code: "unsupported_parameter" });
  }
  const input = (body as { input?: unknown }).input;
  if (Array.isArray(input) && input.length > limits.maxMessages) {
    throw new InvalidRequestError(`Too many input items: at most ${limits.maxMessages} per request.`, { param: "input" });
  }
  const parsed = responsesRequest.safeParse(body);
  if (!parsed.success) throw invalidRequestFrom(parsed.error.issues);
  const request = parsed.data;
  if (request.instructions && utf8Length(request.instructions) > limits.maxMessageBytes) {
    throw new InvalidRequestError(`instructions are larger than ${limits.maxMessageBytes} bytes.`, { status: 413, param: "instructions", code: "message_too_large" });
  }
  if (request.tools && request.tools.length > MAX_TOOLS) throw new InvalidRequestError(`At most ${MAX_TOOLS} tools per request.`, { param: "tools" });
  const items = typeof request.input === "string" ? [request.input] : request.input;
  items.forEach((item, index) => {
    if (utf8Length(typeof item === "string" ? item : JSON.stringify(item)) > limits.maxMessageBytes) {
      const param = typeof request.input === "string" ? "input" : `input[${index}]`;
      throw new InvalidRequestError(`${param} is larger than ${limits.maxMessageBytes} bytes.`, { status: 413, param, code: "message_too_large" });
    }
  });
  return request;
}
