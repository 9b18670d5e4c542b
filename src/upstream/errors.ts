import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { ApiError, UpstreamError } from "../http/errors";

/** The message a provider gave for the client's own mistake, if it gave one we can show. */
function providerMessage(error: APIError): string | undefined {
  const body = error.error as { message?: unknown } | undefined;
  return typeof body?.message === "string" ? body.message.slice(0, 1000) : undefined;
}

export interface UpstreamErrorOptions {
  /**
   * Whether the provider's own words about a rejected request are shown. Only to trusted backends:
   * a provider may quote the prompt back, the operator's system prompt included.
   */
  providerMessages: boolean;
}

/**
 * How an upstream failure reaches the client. The client's own mistakes (400, 404, 422) keep the
 * provider's status, type, code and param, and (for trusted backends) its message; a provider
 * rejecting our credentials is our problem, and its message (which can quote part of the key) is
 * never shown.
 */
export function toUpstreamError(error: unknown, options: UpstreamErrorOptions): ApiError {
  if (error instanceof ApiError) return error;
  // Our own deadline over every attempt (the SDK's timeout bounds one attempt only).
  if (error instanceof APIConnectionTimeoutError || error instanceof APIUserAbortError) {
    return new UpstreamError(504, "The upstream model provider did not answer in time.", { code: "upstream_timeout" });
  }
  if (error instanceof APIConnectionError) {
    return new UpstreamError(502, "Could not reach the upstream model provider.", { code: "upstream_unreachable" });
  }
  if (error instanceof APIError && typeof error.status === "number") {
    const status = error.status;
    if (status === 429) {
      const retryAfter = error.headers?.get("retry-after");
      return new UpstreamError(429, "The upstream model provider is rate limiting requests; retry later.", {
        code: "upstream_rate_limited",
        headers: retryAfter ? { "Retry-After": retryAfter } : {},
      });
    }
    if (status === 400 || status === 404 || status === 409 || status === 413 || status === 422) {
      const code = (error.error as { code?: unknown } | undefined)?.code;
      const message = options.providerMessages ? providerMessage(error) : undefined;
      return new UpstreamError(status, message ?? "The upstream model provider rejected the request.", {
        code: typeof code === "string" ? code : "upstream_rejected",
        param: typeof error.param === "string" ? error.param : null,
      });
    }
    if (status === 408 || status === 504) {
      return new UpstreamError(504, "The upstream model provider timed out.", { code: "upstream_timeout" });
    }
    return new UpstreamError(502, `The upstream model provider failed (status ${status}).`, { code: "upstream_error" });
  }
  return new UpstreamError(502, "The upstream model provider failed.", { code: "upstream_error" });
}
