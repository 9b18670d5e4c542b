import type { Redis } from "@upstash/redis/cloudflare";
import type { Context } from "hono";
import type { AppEnv } from "../auth/app-env";
import { sessionReader } from "./session-sync";
import { syncToken } from "./sync-token";

/**
 * The Redis client for a read a client makes between turns (the session API, a stored response, a
 * conversation): it sees the session's latest save, the one the echoed X-Session-Sync names or else
 * the one this proxy remembers, as the session's next turn would.
 */
export function readerOfSession(c: Context<AppEnv>, user: string, session: string): Promise<Redis> {
  return sessionReader(c.get("config"), user, session, syncToken(c.req.header("X-Session-Sync")));
}
