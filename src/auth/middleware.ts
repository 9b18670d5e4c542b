import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import { AuthenticationError } from "../http/errors";
import { validId } from "../http/ids";
import { isProxyApiKey } from "./api-key";

function bearerToken(header: string | undefined): string | undefined {
  const match = header?.match(/^Bearer\s+(\S+)\s*$/i);
  return match?.[1];
}

/** Decides who the caller is, or answers 401. Runs before anything reads the body. */
export const authenticate: MiddlewareHandler<AppEnv> = async (c, next) => {
  const config = c.get("config");
  const started = performance.now();
  const token = bearerToken(c.req.header("Authorization"));
  if (!token) {
    throw new AuthenticationError("Missing bearer token: send `Authorization: Bearer <api key>`.");
  }
  if (!(await isProxyApiKey(token, config.apiKeys))) {
    throw new AuthenticationError("Invalid API key.");
  }
  const header = c.req.header("X-User-Id");
  c.set("caller", { kind: "api_key", userId: header === undefined ? undefined : validId(header, "X-User-Id") });
  c.get("timing").record("auth", performance.now() - started);
  await next();
};
