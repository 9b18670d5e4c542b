/**
 * A chat completion's `usage`, as an upstream reports it: every field read defensively, since
 * OpenAI-compatible providers differ in what they fill in.
 */
export interface ChatUsage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  total_tokens?: unknown;
  prompt_tokens_details?: { cached_tokens?: unknown } | null;
  completion_tokens_details?: { reasoning_tokens?: unknown } | null;
}
