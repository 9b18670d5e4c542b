import type { AssistantMessage } from "../messages/reply";

/** What a replay cost: no model was asked. */
const NO_USAGE = { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 };

/**
 * A stored reply, answered again in Chat Completions' shapes: what a retry with an Idempotency-Key
 * gets instead of a second call to the model.
 */
export function completionOf(reply: AssistantMessage, model: string, created = Math.floor(Date.now() / 1000)) {
  return {
    id: `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`,
    object: "chat.completion",
    created,
    model,
    choices: [{ index: 0, message: { ...reply, refusal: null }, logprobs: null, finish_reason: finishReason(reply) }],
    usage: NO_USAGE,
  };
}

/**
 * The same reply as a whole stream: one chunk with the message, one with the finish, and [DONE].
 * A client that asked for usage (`stream_options.include_usage`) gets its chunk too, with no
 * choices as OpenAI sends it: zero tokens, since a replay asks no model.
 */
export function streamOf(reply: AssistantMessage, model: string, { usage = false, created = Math.floor(Date.now() / 1000) } = {}): string {
  const id = `chatcmpl-${crypto.randomUUID().replaceAll("-", "")}`;
  const event = (fields: object) => `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, ...fields })}\n\n`;
  const chunk = (delta: object, finish: string | null) => event({ choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }], ...(usage ? { usage: null } : {}) });
  const toolCalls = reply.tool_calls?.map((call, index) => ({ index, ...call }));
  const calls = { ...(toolCalls ? { tool_calls: toolCalls } : {}), ...(reply.function_call ? { function_call: reply.function_call } : {}) };
  return (
    chunk({ role: "assistant", content: reply.content ?? null, ...calls }, null) +
    chunk({}, finishReason(reply)) +
    (usage ? event({ choices: [], usage: NO_USAGE }) : "") +
    "data: [DONE]\n\n"
  );
}

function finishReason(reply: AssistantMessage): string {
  return reply.tool_calls?.length ? "tool_calls" : reply.function_call ? "function_call" : "stop";
}
