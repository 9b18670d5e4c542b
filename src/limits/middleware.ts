import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import { userOf } from "../auth/caller";
import { redisClient, withRedis } from "../memory/redis";
import { RedisBatch } from "../memory/redis-batch";
import { checkUserLimit, enforce, rateLimitHeaders } from "./rate-limit";

/**
 * The per-user limit for the session and profile APIs (chat checks it inside its own load, to
 * share that round trip). Same budget as chat: a request is a request.
 */
export const limitPerUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = c.get("config");
  if (config.rateLimit.requests === 0) return next();
  const user = userOf(c.get("caller"));
  const batch = new RedisBatch(redisClient(config));
  const verdict = checkUserLimit(config, batch, user);
  verdict?.catch(() => {});
  await batch.flush().catch(() => {});
  const checked = await withRedis("rate_limit", async () => verdict);
  if (checked) {
    for (const [name, value] of Object.entries(rateLimitHeaders(checked))) c.header(name, value);
  }
  enforce(checked);
  await next();
};
