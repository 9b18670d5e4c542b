import type { Context, MiddlewareHandler } from "hono";
import type { AppEnv } from "./app-env";
import type { Config } from "../config";
import { AuthenticationError } from "../http/errors";
import { validId } from "../http/ids";
import { log } from "../http/log";
import { refuseRepeatedFailures } from "../rate-limit/auth-failures";
import { isProxyApiKey } from "./api-key";
import type { Caller } from "./caller";
import { looksLikeJwt, verifyWidgetToken, WidgetTokenError } from "./jwt";

function bearerToken(header: string | undefined): string | undefined {
  return header?.match(/^Bearer\s+(\S+)\s*$/i)?.[1];
}

/**
 * Cloudflare sets CF-Connecting-IP at its edge (clients cannot forge it there), and `wrangler dev`
 * sets loopback. Undefined without it: a service binding or another internal caller.
 */
export function clientIp(c: Context<AppEnv>): string | undefined {
  return c.req.header("CF-Connecting-IP")?.trim() || undefined;
}

async function identify(c: Context<AppEnv>, config: Config, token: string): Promise<Caller> {
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

/**
 * Decides who the caller is, or answers 401: a trusted backend with a proxy API key (which names
 * the user), or a browser widget with a token issued for one user. The credential is checked
 * first, always: only one that fails counts against the address, and only one that fails can be
 * answered 429 for the address's failures.
 */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = c.get("config");
  const started = performance.now();
  const token = bearerToken(c.req.header("Authorization"));
  // No credential is no guess: a plain 401, never counted.
  if (!token) throw new AuthenticationError("Missing bearer token: send `Authorization: Bearer <api key or widget token>`.");
  let caller: Caller;
  try {
    caller = await identify(c, config, token);
  } catch (error) {
    // An expired token is routine, not an attack: it neither counts nor is refused, so a widget
    // behind a busy address still learns to fetch a new one.
    if (error instanceof AuthenticationError && error.code !== "token_expired") await refuseRepeatedFailures(config, clientIp(c));
    throw error;
  }
  c.set("caller", caller);
  c.get("timing").record("auth", performance.now() - started);
  await next();
};
