import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import type { Config } from "../config";
import { AuthenticationError } from "../http/errors";
import { validId } from "../http/ids";
import { log } from "../http/log";
import { authFailuresBlockedUntil, countAuthFailure, tooManyRequests, type Verdict } from "../limits/rate-limit";
import { redisClient } from "../memory/redis";
import { RedisBatch } from "../memory/redis-batch";
import { isProxyApiKey } from "./api-key";
import type { Caller } from "./caller";
import { looksLikeJwt, verifyWidgetToken, WidgetTokenError } from "./jwt";

function bearerToken(header: string | undefined): string | undefined {
  return header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
}

/** Cloudflare sets CF-Connecting-IP at its edge (clients cannot forge it there); locally it is loopback. */
export function clientIp(c: Context<AppEnv>): string {
  return c.req.header("CF-Connecting-IP") ?? "unknown";
}

async function identify(c: Context<AppEnv>, config: Config): Promise<Caller> {
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) throw new AuthenticationError("Missing bearer token: send `Authorization: Bearer <api key or widget token>`.");
  if (looksLikeJwt(token) && (config.auth.jwtSecret || config.auth.jwksUrl)) {
    try {
      // A widget's user is in its token; an X-User-Id header cannot change it.
      return { kind: "widget", userId: await verifyWidgetToken(token, config.auth) };
    } catch (error) {
      if (!(error instanceof WidgetTokenError)) throw error; // e.g. the identity provider is down: 503
      // A code from a closed set, never the error's text: nothing the token says reaches the log.
      log("info", "widget_token_refused", { request_id: c.get("requestId"), reason: error.reason });
      throw new AuthenticationError("Invalid or expired widget token.", { code: error.routine ? "token_expired" : "invalid_token" });
    }
  }
  if (!(await isProxyApiKey(token, config.auth.apiKeys))) throw new AuthenticationError("Invalid API key.");
  const header = c.req.header("X-User-Id");
  return { kind: "api_key", userId: header === undefined ? undefined : validId(header, "X-User-Id") };
}

/** Counts a failure against the IP; undefined when it could not be counted (no Redis, Redis down). */
async function countFailure(c: Context<AppEnv>, config: Config): Promise<Verdict | undefined> {
  if (!config.redis) return undefined;
  const batch = new RedisBatch(redisClient(config));
  const verdict = countAuthFailure(config, batch, clientIp(c))?.catch(() => undefined);
  try {
    await batch.flush();
  } catch {
    // Redis being down must not turn a 401 into something else.
  }
  return verdict;
}

/**
 * Decides who the caller is, or answers 401: a trusted backend with a proxy API key (which names
 * the user), or a browser widget with a token issued for one user. An IP over its limit of
 * failed attempts gets 429 before anything is checked.
 */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = c.get("config");
  const started = performance.now();
  const blockedUntil = authFailuresBlockedUntil(clientIp(c));
  if (blockedUntil !== undefined) throw tooManyRequests("Too many failed authentication attempts from this address.", blockedUntil);
  let caller: Caller;
  try {
    caller = await identify(c, config);
  } catch (error) {
    // An expired token is routine, not an attack: it does not count against the address.
    if (error instanceof AuthenticationError && error.code !== "token_expired") {
      const verdict = await countFailure(c, config);
      if (verdict && !verdict.success) throw tooManyRequests("Too many failed authentication attempts from this address.", verdict.reset);
    }
    throw error;
  }
  c.set("caller", caller);
  c.get("timing").record("auth", performance.now() - started);
  await next();
};
