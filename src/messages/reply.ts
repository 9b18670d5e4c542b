import type { ChatMessage, ToolCall } from "./schema";

export type AssistantMessage = Extract<ChatMessage, { role: "assistant" }>;

interface Delta {
  content?: unknown;
  refusal?: unknown;
  tool_calls?: Array<{ index?: number; id?: string; type?: string; function?: { name?: string; arguments?: string } }>;
  function_call?: { name?: string; arguments?: string };
}

/** An upstream chat.completion.chunk, as far as the proxy reads it. */
export interface ChunkLike {
  choices?: Array<{ index?: number; delta?: Delta; finish_reason?: string | null }>;
  usage?: unknown;
}

/**
 * Rebuilds the assistant's message from streamed chunks while they are forwarded, so the turn can
 * be saved the moment the stream ends. Only choice 0 matters: requests with n > 1 are refused.
 */
export class ReplyBuilder {
  private content = "";
  private refusal = "";
  private readonly toolCalls = new Map<number, { id: string; type: string; function: { name: string; arguments: string } }>();
  private functionCall: { name: string; arguments: string } | undefined;
  finishReason: string | null = null;

  add(chunk: ChunkLike): void {
    const choice = chunk.choices?.find((c) => (c.index ?? 0) === 0);
    if (!choice) return;
    const delta = choice.delta ?? {};
    if (typeof delta.content === "string") this.content += delta.content;
    if (typeof delta.refusal === "string") this.refusal += delta.refusal;
    for (const call of delta.tool_calls ?? []) {
      const index = call.index ?? 0;
      const entry = this.toolCalls.get(index) ?? { id: "", type: "function", function: { name: "", arguments: "" } };
      if (call.id) entry.id = call.id;
      if (call.type) entry.type = call.type;
      if (call.function?.name) entry.function.name += call.function.name;
      if (call.function?.arguments) entry.function.arguments += call.function.arguments;
      this.toolCalls.set(index, entry);
    }
    if (delta.function_call) {
      this.functionCall ??= { name: "", arguments: "" };
      if (delta.function_call.name) this.functionCall.name += delta.function_call.name;
      if (delta.function_call.arguments) this.functionCall.arguments += delta.function_call.arguments;
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
  }

  message(): AssistantMessage {
    const toolCalls: ToolCall[] = [...this.toolCalls.entries()].sort(([a], [b]) => a - b).map(([, call]) => call);
    const text = this.content || this.refusal;
    return {
      role: "assistant",
      content: text || (toolCalls.length || this.functionCall ? null : ""),
      ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
      ...(this.functionCall ? { function_call: this.functionCall } : {}),
    };
  }
}

function isToolCall(value: unknown): value is ToolCall {
  const call = value as { id?: unknown; type?: unknown; function?: { name?: unknown; arguments?: unknown } } | null;
  return (
    typeof call === "object" &&
    call !== null &&
    typeof call.id === "string" &&
    typeof call.type === "string" &&
    (call.function === undefined || (typeof call.function?.name === "string" && typeof call.function?.arguments === "string"))
  );
}

function isFunctionCall(value: unknown): value is { name: string; arguments: string } {
  const call = value as { name?: unknown; arguments?: unknown } | null;
  return typeof call === "object" && call !== null && typeof call.name === "string" && typeof call.arguments === "string";
}

/** The assistant's message in a non-streamed completion, or undefined if the body has none. */
export function replyFromCompletion(body: unknown): AssistantMessage | undefined {
  const choices = (body as { choices?: Array<{ index?: number; message?: unknown }> } | null)?.choices;
  const message = Array.isArray(choices) ? choices.find((c) => (c.index ?? 0) === 0)?.message : undefined;
  if (!message || typeof message !== "object") return undefined;
  const { content, refusal, tool_calls, function_call } = message as { content?: unknown; refusal?: unknown; tool_calls?: unknown; function_call?: unknown };
  const text = typeof content === "string" ? content : typeof refusal === "string" ? refusal : "";
  const calls = Array.isArray(tool_calls) ? tool_calls.filter(isToolCall) : [];
  const legacy = isFunctionCall(function_call) ? { name: function_call.name, arguments: function_call.arguments } : undefined;
  return {
    role: "assistant",
    content: text || (calls.length || legacy ? null : ""),
    ...(calls.length ? { tool_calls: calls } : {}),
    ...(legacy ? { function_call: legacy } : {}),
  };
}
