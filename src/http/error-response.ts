import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ApiError, ConfigError, internalError } from "./errors";
import { describeError, log } from "./log";

function asApiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ConfigError) {
    return new ApiError(500, "server_error", `The proxy is misconfigured: ${error.message}`, { code: "config_error" });
  }
  if (error instanceof HTTPException) {
    return new ApiError(error.status, error.status >= 500 ? "server_error" : "invalid_request_error", error.message || "Request failed.");
  }
  return internalError();
}

/** The one place where errors become responses: OpenAI's shape, the right status, no internals. */
export function errorResponse<E extends { Variables: { requestId: string } }>(error: unknown, c: Context<E>): Response {
  const apiError = asApiError(error);
  if (apiError.status >= 500 && !(error instanceof ApiError)) {
    log("error", "unhandled", { error: describeError(error) });
  }
  const requestId = c.get("requestId");
  return c.json(apiError.toJSON(), apiError.status, { ...apiError.headers, ...(requestId ? { "X-Request-Id": requestId } : {}) });
}
