import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../auth/app-env";
import { redisClient } from "../redis/client";
import { RedisBatch } from "../redis/batch";
import { admitUser } from "./rate-limit";

/**
 * The per-user limit for the model, session and profile APIs (chat checks it inside its own load,
 * to share that round trip). Same budget as chat: a request is a request. A backend that names
 * no user is not limited here (those routes that need one answer 400 themselves).
 */
export const limitPerUser: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = c.get("config");
  const user = c.get("caller").userId;
  if (config.rateLimit.requests === 0 || user === undefined) return next();
  const batch = new RedisBatch(redisClient(config));
  const admitted = admitUser(config, batch, user);
  await batch.flush().catch(() => {});
  for (const [name, value] of Object.entries(await admitted)) c.header(name, value);
  await next();
};
