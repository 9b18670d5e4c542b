import type { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../config";
import { withDeadline } from "../http/deadline";
import { describeError, log } from "../http/log";
import { sessionRedis } from "../redis/client";

/** Sessions whose latest save an isolate remembers: the most recently saved ones. */
const REMEMBERED_SESSIONS = 1000;
const latestSaves = new WeakMap<Config, Map<string, { token: string; order: number | undefined }>>();
/** The name of a session's Durable Objects (its sync token here, its turns in SessionTurns). */
export const sessionObjectName = (user: string, session: string) => `${user}\u0000${session}`;

/** Where a turn's sync token came from: the turn's log line says, so an operator sees how many turns rely on a fallback. */
export type SyncSource = "echoed" | "object" | "isolate" | "none";

/**
 * The sync token a session turn's reads start from, so they wait for the session's latest save on
 * an Upstash Global replica: the one the client echoed (X-Session-Sync); else, with
 * SYNC_FALLBACK=durable-object, the one the session's Durable Object holds, wherever that save
 * ran; else the session's latest save in this isolate, if it ran here.
 */
export async function sessionSyncStart(config: Config, user: string, session: string, echoed: string | undefined): Promise<{ token: string | undefined; source: SyncSource }> {
  if (echoed) return { token: echoed, source: "echoed" };
  const remembered = latestSaves.get(config)?.get(sessionObjectName(user, session))?.token;
  const inIsolate = { token: remembered, source: remembered ? "isolate" : "none" } as const;
  if (!config.sessionSync) return inIsolate;
  try {
    const { objects } = config.sessionSync;
    const stub = objects.get(objects.idFromName(sessionObjectName(user, session)));
    const held = await withDeadline(stub.latest(), config.sessionSync.timeoutMs, undefined, "session sync read");
    return held ? { token: held, source: "object" } : inIsolate;
  } catch (error) {
    // The turn goes on as the isolate knows it: read-your-writes as without the fallback.
    log("warn", "session_sync_failed", { op: "read", error: describeError(error) });
    return inIsolate;
  }
}

export async function sessionSyncToken(config: Config, user: string, session: string, echoed: string | undefined): Promise<string | undefined> {
  return (await sessionSyncStart(config, user, session, echoed)).token;
}

/**
 * A client that reads one session as its next turn would: once a replica has the session's latest
 * save (the echoed token, else the fallback's). For the reads a client makes between turns: the
 * session API, a stored response, a conversation.
 */
export async function sessionReader(config: Config, user: string, session: string, echoed: string | undefined): Promise<Redis> {
  return sessionRedis(config, await sessionSyncToken(config, user, session, echoed));
}

/** Whether a save of `order` comes after the one remembered: saves that race may finish in either order. */
export function isNewer(order: number | undefined, remembered: number | undefined): boolean {
  return order === undefined || remembered === undefined || order > remembered;
}

/**
 * Remembers a turn's save token for the session's next turn that brings none: in this isolate,
 * and with SYNC_FALLBACK=durable-object in the session's Durable Object, before the answer ends
 * (the client may send its next turn as soon as it has the answer). `order` is the save's place
 * in the session (its appended count): of two turns that saved at once, the one that finished
 * later may have committed first, and its older token must not replace the newer.
 */
export async function rememberSave(config: Config, user: string, session: string, token: string, order?: number): Promise<void> {
  let saves = latestSaves.get(config);
  if (!saves) latestSaves.set(config, (saves = new Map()));
  const key = sessionObjectName(user, session);
  const known = saves.get(key);
  // Newest last, so the first is the one to forget.
  saves.delete(key);
  saves.set(key, known && !isNewer(order, known.order) ? known : { token, order });
  if (saves.size > REMEMBERED_SESSIONS) saves.delete(saves.keys().next().value!);
  if (!config.sessionSync) return;
  try {
    const { objects } = config.sessionSync;
    const stub = objects.get(objects.idFromName(key));
    await withDeadline(stub.saved(token, config.sessions.ttlSeconds, order), config.sessionSync.timeoutMs, undefined, "session sync write");
  } catch (error) {
    // The save stands; only a client that echoes nothing, in another isolate, may miss it.
    log("warn", "session_sync_failed", { op: "write", error: describeError(error) });
  }
}
