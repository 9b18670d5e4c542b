import type { ChatUsage } from "../messages/usage";
import type { OutputItem } from "./items";
import type { ResponsesRequest } from "./schema";

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

const count = (value: unknown) => (typeof value === "number" && Number.isFinite(value) ? value : 0);

/** A chat completion's usage in Responses' terms, or null when the upstream reported none. */
export function usageOf(usage: ChatUsage | null | undefined): ResponseUsage | null {
  if (!usage || typeof usage !== "object") return null;
  const input = count(usage.prompt_tokens);
  const output = count(usage.completion_tokens);
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: count(usage.prompt_tokens_details?.cached_tokens) },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: count(usage.completion_tokens_details?.reasoning_tokens) },
    total_tokens: count(usage.total_tokens) || input + output,
  };
}

export type ResponseStatus = "in_progress" | "completed" | "incomplete" | "failed";

/** How a chat completion's finish_reason ends a response. */
export function endOf(finishReason: string | null | undefined): { status: "completed" | "incomplete"; incomplete_details: { reason: string } | null } {
  if (finishReason === "length") return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
  if (finishReason === "content_filter") return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
  return { status: "completed", incomplete_details: null };
}

export interface ResponseIdentity {
  id: string;
  model: string;
  createdAt: number;
  /** The conversation the response continues, when the request named one. */
  conversation: string | undefined;
}

/** What a response says about the request that made it: the same in every event of a stream. */
export function responseShell(request: ResponsesRequest, identity: ResponseIdentity) {
  return {
    id: identity.id,
    object: "response" as const,
    created_at: identity.createdAt,
    model: identity.model,
    instructions: request.instructions ?? null,
    max_output_tokens: request.max_output_tokens ?? null,
    previous_response_id: request.previous_response_id ?? null,
    ...(identity.conversation ? { conversation: { id: identity.conversation } } : {}),
    store: request.store !== false,
    temperature: request.temperature ?? null,
    top_p: request.top_p ?? null,
    parallel_tool_calls: request.parallel_tool_calls ?? true,
    tool_choice: request.tool_choice ?? "auto",
    tools: request.tools ?? [],
    text: { format: request.text?.format ?? { type: "text" }, ...(request.text?.verbosity ? { verbosity: request.text.verbosity } : {}) },
    truncation: request.truncation ?? "disabled",
    reasoning: { effort: request.reasoning?.effort ?? null, summary: null },
    metadata: request.metadata ?? {},
    user: request.user ?? null,
  };
}

export type ResponseShell = ReturnType<typeof responseShell>;

export interface ResponseState {
  status: ResponseStatus;
  output: OutputItem[];
  usage: ResponseUsage | null;
  error?: { code: string; message: string } | null;
  incomplete_details?: { reason: string } | null;
}

export function responseObject(shell: ResponseShell, state: ResponseState) {
  return {
    ...shell,
    status: state.status,
    error: state.error ?? null,
    incomplete_details: state.incomplete_details ?? null,
    output: state.output,
    usage: state.usage,
  };
}

export type ResponseObject = ReturnType<typeof responseObject>;
