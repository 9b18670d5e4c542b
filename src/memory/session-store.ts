import type { Redis } from "@upstash/redis/cloudflare";
import type { ChatMessage } from "../chat/schema";
import type { Config } from "../config";
import { keys } from "./keys";
import { cachedProfile } from "./profile-cache";
import { redisClient, withRedis } from "./redis";
import { parseStoredMessages } from "./stored-message";

export interface SessionSettings {
  ttlSeconds: number;
  maxStored: number;
  /** Set when profiles are on (Cosmos configured): an erasure then caches an empty profile. */
  profileCacheTtlSeconds: number | undefined;
}

export interface SessionInfo {
  id: string;
  lastActiveAt: number;
  expiresAt: number;
}

export interface StoredSession {
  id: string;
  messages: ChatMessage[];
  summary: string | null;
  expiresAt: number;
}

/**
 * The session API's view of Redis: a LIST per session, one JSON message per element, and a ZSET
 * index per user. (Chat turns read and append through TurnMemory.)
 */
export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly settings: SessionSettings,
  ) {}

  /** The user's live sessions, most recently active first. */
  list(user: string, limit: number, now = Date.now()): Promise<SessionInfo[]> {
    const ttlMs = this.settings.ttlSeconds * 1000;
    return withRedis("list", async () => {
      const flat = await this.redis.zrange<string[]>(keys.sessionIndex(user), "+inf", now - ttlMs, {
        byScore: true,
        rev: true,
        withScores: true,
        offset: 0,
        count: limit,
      });
      const sessions: SessionInfo[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) {
        const lastActiveAt = Number(flat[i + 1]);
        sessions.push({ id: String(flat[i]), lastActiveAt, expiresAt: lastActiveAt + ttlMs });
      }
      return sessions;
    });
  }

  /** Everything stored for one session, or null when it does not exist (or belongs to someone else). */
  get(user: string, session: string, now = Date.now()): Promise<StoredSession | null> {
    return withRedis("get", async () => {
      const [messages, summary, pttl] = await this.redis
        .pipeline()
        .lrange(keys.session(user, session), 0, -1)
        .get<string>(keys.summary(user, session))
        .pttl(keys.session(user, session))
        .exec<[string[], string | null, number]>();
      if (!Array.isArray(messages) || messages.length === 0) return null;
      return { id: session, messages: parseStoredMessages(messages), summary, expiresAt: now + Math.max(0, Number(pttl)) };
    });
  }

  /**
   * Erases the user from Redis: every session (the index knows every live one), the index, and
   * the cached profile, which is replaced by an empty one so a turn in flight cannot re-cache the
   * old. The erasure is stamped first, so such a turn also takes back its save (TurnMemory).
   * Returns how many sessions there were.
   */
  erase(user: string, now = Date.now()): Promise<number> {
    return withRedis("erase", async () => {
      const [, ids] = await this.redis
        .pipeline()
        .set(keys.erased(user), String(now), { ex: this.settings.ttlSeconds })
        .zrange(keys.sessionIndex(user), 0, -1)
        .exec<[unknown, string[]]>();
      const doomed = ids.flatMap((id) => [keys.session(user, id), keys.summary(user, id)]);
      const erasure = this.redis.multi().del(...doomed, keys.sessionIndex(user));
      const cacheTtl = this.settings.profileCacheTtlSeconds;
      if (cacheTtl !== undefined) erasure.set(keys.profile(user), cachedProfile({}), { ex: cacheTtl });
      await erasure.exec();
      return ids.length;
    });
  }

  /** Forgets a session; false when there was nothing to forget. */
  remove(user: string, session: string): Promise<boolean> {
    return withRedis("remove", async () => {
      const [deleted] = await this.redis
        .multi()
        .del(keys.session(user, session), keys.summary(user, session))
        .zrem(keys.sessionIndex(user), session)
        .exec<[number, number]>();
      return Number(deleted) > 0;
    });
  }
}

export function sessionStore(config: Config): SessionStore {
  return new SessionStore(redisClient(config), { ...config.sessions, profileCacheTtlSeconds: config.cosmos?.cacheTtlSeconds });
}
