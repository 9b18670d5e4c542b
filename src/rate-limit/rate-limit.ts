import { Ratelimit } from "@upstash/ratelimit";
import type { Config } from "../config";
import { RateLimitError } from "../http/errors";
import { keys } from "../redis/keys";
import { withRedis } from "../redis/client";
import type { RedisBatch } from "../redis/batch";

export interface Verdict {
  success: boolean;
  limit: number;
  remaining: number;
  /** When the window that decided ends, in ms. */
  reset: number;
}

// Identifiers found over their limit, with when that ends: checked in the isolate before any
// Redis call, so a client hammering a closed door costs nothing (the library's ephemeral cache).
const overLimit = new Map<string, number>();

const MAX_REMEMBERED = 10_000;

function limiter(batch: RedisBatch, prefix: string, requests: number, windowSeconds: number): Ratelimit {
  if (overLimit.size > MAX_REMEMBERED) {
    // Many distinct offenders (a spray of IPs): forget the expired ones, or all, to bound memory.
    const now = Date.now();
    for (const [identifier, until] of overLimit) if (until <= now) overLimit.delete(identifier);
    if (overLimit.size > MAX_REMEMBERED) overLimit.clear();
  }
  return new Ratelimit({
    redis: batch.asRatelimitClient(),
    limiter: Ratelimit.slidingWindow(requests, `${windowSeconds} s`),
    prefix,
    ephemeralCache: overLimit,
    analytics: false,
    // Redis time is already bounded (REDIS_TIMEOUT_MS); the library's own timeout would fail open.
    timeout: 0,
  });
}

/**
 * The per-user sliding window (RATE_LIMIT_REQUESTS per RATE_LIMIT_WINDOW_SECONDS), as one command
 * in the request's batch: it rides the same Upstash request as the turn's reads. Undefined when
 * the limit is off (0).
 */
export function checkUserLimit(config: Config, batch: RedisBatch, user: string): Promise<Verdict> | undefined {
  const { requests, windowSeconds } = config.rateLimit;
  if (requests === 0) return undefined;
  return limiter(batch, keys.rateLimit.userPrefix, requests, windowSeconds).limit(keys.rateLimit.user(user));
}

/** Counts a failed authentication against the caller's IP (AUTH_FAILURE_LIMIT per window). */
export function countAuthFailure(config: Config, batch: RedisBatch, ip: string): Promise<Verdict> | undefined {
  const { authFailures, authFailureWindowSeconds } = config.rateLimit;
  if (authFailures === 0) return undefined;
  return limiter(batch, keys.rateLimit.authFailurePrefix, authFailures, authFailureWindowSeconds).limit(keys.rateLimit.ip(ip));
}

/** Whether this IP is known, in this isolate, to be over its failed-authentication limit; until when. */
export function authFailuresBlockedUntil(ip: string, now = Date.now()): number | undefined {
  const until = overLimit.get(`${keys.rateLimit.authFailurePrefix}:${keys.rateLimit.ip(ip)}`);
  return until !== undefined && until > now ? until : undefined;
}

/** OpenAI's names for the limit headers, so SDKs and dashboards read them as they read OpenAI's. */
export function rateLimitHeaders(verdict: Verdict, now = Date.now()): Record<string, string> {
  return {
    "x-ratelimit-limit-requests": String(verdict.limit),
    "x-ratelimit-remaining-requests": String(verdict.remaining),
    "x-ratelimit-reset-requests": `${Math.max(0, Math.ceil((verdict.reset - now) / 1000))}s`,
  };
}

export function tooManyRequests(message: string, reset: number, headers: Record<string, string> = {}, now = Date.now()): RateLimitError {
  return new RateLimitError(message, { headers: { ...headers, "Retry-After": String(Math.max(1, Math.ceil((reset - now) / 1000))) } });
}

/**
 * Queues the user's rate-limit check in `batch`. Once the batch is sent, resolves with the
 * x-ratelimit headers to set, or rejects: 429 over the limit, 503 if Redis failed.
 * Never unobserved: a rejection waits for the caller's await.
 */
export function admitUser(config: Config, batch: RedisBatch, user: string): Promise<Record<string, string>> {
  const verdict = checkUserLimit(config, batch, user);
  const admitted = withRedis("rate_limit", async () => {
    const checked = await verdict;
    if (!checked) return {};
    const headers = rateLimitHeaders(checked);
    if (!checked.success) throw tooManyRequests("Too many requests for this user; retry after the time in Retry-After.", checked.reset, headers);
    return headers;
  });
  admitted.catch(() => {});
  return admitted;
}
