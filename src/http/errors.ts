import type { ContentfulStatusCode } from "hono/utils/http-status";

/** The body of every error response, as OpenAI's API shapes it. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

interface ApiErrorInit {
  param?: string | null;
  code?: string | null;
  headers?: Record<string, string>;
}

/**
 * An error meant for the client. Its message is shown as is, so it must never carry a secret,
 * a stack or another user's data. Anything else thrown becomes a generic 500.
 */
export class ApiError extends Error {
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: ContentfulStatusCode,
    readonly type: string,
    message: string,
    init: ApiErrorInit = {},
  ) {
    super(message);
    this.param = init.param ?? null;
    this.code = init.code ?? null;
    this.headers = init.headers ?? {};
  }

  toJSON(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** 400, or 413/415 where the body is too big or of a type we do not take. */
export class InvalidRequestError extends ApiError {
  constructor(message: string, init: ApiErrorInit & { status?: 400 | 413 | 415 } = {}) {
    super(init.status ?? 400, "invalid_request_error", message, init);
  }
}

export class AuthenticationError extends ApiError {
  constructor(message: string, init: ApiErrorInit = {}) {
    super(401, "authentication_error", message, { code: "invalid_api_key", ...init });
  }
}

export class PermissionError extends ApiError {
  constructor(message: string, init: ApiErrorInit = {}) {
    super(403, "permission_error", message, init);
  }
}

export class NotFoundError extends ApiError {
  constructor(message: string, init: ApiErrorInit = {}) {
    super(404, "not_found_error", message, { code: "not_found", ...init });
  }
}

/** If-Match named a version that is no longer current. */
export class PreconditionFailedError extends ApiError {
  constructor(message: string, init: ApiErrorInit = {}) {
    super(412, "invalid_request_error", message, { code: "precondition_failed", ...init });
  }
}

/** The request conflicts with one still in progress (an Idempotency-Key whose first attempt is running): 409. */
export class ConflictError extends ApiError {
  constructor(message: string, init: ApiErrorInit = {}) {
    super(409, "invalid_request_error", message, init);
  }
}

/** Well-formed, but not a request this resource can take (an Idempotency-Key reused for another request): 422. */
export class UnprocessableError extends ApiError {
  constructor(message: string, init: ApiErrorInit = {}) {
    super(422, "invalid_request_error", message, init);
  }
}

export class RateLimitError extends ApiError {
  constructor(message: string, init: ApiErrorInit = {}) {
    super(429, "rate_limit_error", message, { code: "rate_limit_exceeded", ...init });
  }
}

/** The upstream LLM failed or timed out (502/504), or passed on its own 4xx/429. */
export class UpstreamError extends ApiError {
  constructor(status: ContentfulStatusCode, message: string, init: ApiErrorInit = {}) {
    super(status, status === 429 ? "rate_limit_error" : status < 500 ? "invalid_request_error" : "upstream_error", message, init);
  }
}

/** A store the request depends on (Redis, Cosmos) is down or not configured: 503. */
export class ServiceUnavailableError extends ApiError {
  constructor(message: string, init: ApiErrorInit = {}) {
    super(503, "service_unavailable", message, { headers: { "Retry-After": "1" }, ...init });
  }
}

export function internalError(): ApiError {
  return new ApiError(500, "server_error", "The server had an error while processing your request.", { code: "internal_error" });
}

/** A configuration value the worker cannot run with; answered as a 500 naming the setting, never its value. */
export class ConfigError extends Error {
  override name = "ConfigError";
}
