import type { Context, Env, MiddlewareHandler } from "hono";
import { cors } from "hono/cors";

const EXPOSED = [
  "X-Request-Id",
  "X-Session-Id",
  "X-Session-Sync",
  "X-History-Kept",
  "X-History-Dropped",
  "X-Recall-Hits",
  "X-Prompt-Tokens-Estimated",
  "X-Memory-Degraded",
  "X-Reply-Resumable",
  "X-Reply-Resumed",
  "Idempotent-Replayed",
  "Retry-After",
  "x-ratelimit-limit-requests",
  "x-ratelimit-remaining-requests",
  "x-ratelimit-reset-requests",
];

const policies = new WeakMap<readonly string[], MiddlewareHandler>();

/**
 * CORS for browser widgets: only the origins in ALLOWED_ORIGINS get a grant (none by default).
 * Widgets send a bearer token, never cookies, so no credentials are allowed; X-User-Id is not an
 * allowed header, because a browser has no business acting for a user it names itself.
 */
export interface CorsForWidgetsOptions<E extends Env> {
  /** The origins granted (ALLOWED_ORIGINS); the same array on every request, so its policy is built once. */
  origins: (c: Context<E>) => readonly string[];
}

export function corsForWidgets<E extends Env>({ origins: originsOf }: CorsForWidgetsOptions<E>): MiddlewareHandler<E> {
  return async (c, next) => {
    // No Origin: not a cross-origin browser (a backend, an SDK), so there is no grant to give.
    // Skipping the CORS middleware here spares every such request the placeholder response it
    // builds and the two copies of the real one it makes to add its headers.
    if (c.req.method !== "OPTIONS" && c.req.header("Origin") === undefined) {
      // Still said, so a cache never serves this answer to a browser's request, which may differ.
      c.header("Vary", "Origin");
      return next();
    }
    const origins = originsOf(c);
    let policy = policies.get(origins);
    if (!policy) {
      policy = cors({
        origin: (origin) => (origins.includes(origin) ? origin : null),
        allowMethods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        allowHeaders: ["Authorization", "Content-Type", "X-Session-Id", "X-Session-Sync", "X-Session-Store", "X-Memory-Recall", "X-Request-Id", "If-Match", "If-None-Match", "Idempotency-Key", "Last-Event-ID"],
        exposeHeaders: EXPOSED,
        maxAge: 600,
      });
      policies.set(origins, policy);
    }
    return policy(c, next);
  };
}
