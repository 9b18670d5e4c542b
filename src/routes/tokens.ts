import { Hono } from "hono";
import * as z from "zod/mini";
import type { AppEnv } from "../auth/app-env";
import { mintWidgetToken } from "../auth/jwt";
import { readJsonBody } from "../http/body";
import { InvalidRequestError, PermissionError, ServiceUnavailableError } from "../http/errors";
import { ID_PATTERN, ID_RULE } from "../http/ids";

const tokenRequest = z.object({
  user: z.string().check(z.regex(ID_PATTERN)),
  ttl_seconds: z.optional(z.number().check(z.multipleOf(1), z.minimum(30))),
});

/**
 * POST /v1/tokens: a trusted backend (API key) mints a short-lived token that lets one user's
 * browser widget talk to the proxy directly, without ever seeing the API key.
 */
export const tokenRoutes = new Hono<AppEnv>().post("/", async (c) => {
  const config = c.get("config");
  if (c.get("caller").kind !== "api_key") throw new PermissionError("Only an API key can mint widget tokens.", { code: "api_key_required" });
  const secret = config.auth.jwtSecret;
  if (!secret) throw new ServiceUnavailableError("Widget tokens are not configured (JWT_SECRET).", { code: "tokens_not_configured" });

  const parsed = tokenRequest.safeParse(await readJsonBody(c.req.raw, config.limits.maxBodyBytes));
  if (!parsed.success) {
    const param = String(parsed.error.issues[0]?.path[0] ?? "user");
    throw new InvalidRequestError(`Send { "user": "<${ID_RULE}>", "ttl_seconds": <30..${config.auth.tokenMaxTtlSeconds}> }.`, { param });
  }
  const ttl = parsed.data.ttl_seconds ?? config.auth.tokenTtlSeconds;
  if (ttl > config.auth.tokenMaxTtlSeconds) {
    throw new InvalidRequestError(`ttl_seconds is at most ${config.auth.tokenMaxTtlSeconds} (WIDGET_TOKEN_MAX_TTL_SECONDS).`, { param: "ttl_seconds" });
  }
  const { token, expiresAt } = await mintWidgetToken(parsed.data.user, ttl, { ...config.auth, jwtSecret: secret });
  return c.json({ object: "widget_token", token, token_type: "Bearer", user: parsed.data.user, expires_at: new Date(expiresAt).toISOString() });
});
