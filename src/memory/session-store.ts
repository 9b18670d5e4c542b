import type { Redis } from "@upstash/redis/cloudflare";
import type { ChatMessage } from "../chat/schema";
import type { Config } from "../config";
import { keys } from "./keys";
import { redisClient, withRedis } from "./redis";

export interface SessionSettings {
  ttlSeconds: number;
  maxStored: number;
}

export interface SessionMemory {
  messages: ChatMessage[];
  summary: string | null;
}

export interface SessionInfo {
  id: string;
  lastActiveAt: number;
  expiresAt: number;
}

export interface StoredSession extends SessionMemory {
  id: string;
  expiresAt: number;
}

function parseMessages(raw: unknown): ChatMessage[] {
  if (!Array.isArray(raw)) return [];
  const messages: ChatMessage[] = [];
  for (const item of raw) {
    try {
      messages.push(JSON.parse(String(item)) as ChatMessage);
    } catch {
      // An element we cannot read is skipped rather than failing the whole conversation.
    }
  }
  return messages;
}

/**
 * Sessions in Redis: a LIST per session, one JSON message per element. Appends are atomic and
 * never rewrite history, so concurrent turns cannot overwrite each other and a read costs
 * O(window), not O(history).
 */
export class SessionStore {
  constructor(
    private readonly redis: Redis,
    private readonly settings: SessionSettings,
  ) {}

  /** The last `count` messages and the summary, in one Upstash request. */
  load(user: string, session: string, count: number): Promise<SessionMemory> {
    return withRedis("load", async () => {
      const [messages, summary] = await this.redis
        .pipeline()
        .lrange(keys.session(user, session), -count, -1)
        .get<string>(keys.summary(user, session))
        .exec<[string[], string | null]>();
      return { messages: parseMessages(messages), summary };
    });
  }

  /**
   * Appends a turn in one transaction: the messages, the storage cap, a fresh TTL on everything
   * the session owns, and its place in the user's index (whose expired entries go at the same time).
   */
  append(user: string, session: string, messages: readonly ChatMessage[], now = Date.now()): Promise<void> {
    const { ttlSeconds, maxStored } = this.settings;
    const key = keys.session(user, session);
    const index = keys.sessionIndex(user);
    return withRedis("append", async () => {
      await this.redis
        .multi()
        .rpush(key, ...messages.map((message) => JSON.stringify(message)))
        .ltrim(key, -maxStored, -1)
        .expire(key, ttlSeconds)
        .expire(keys.summary(user, session), ttlSeconds)
        .zadd(index, { score: now, member: session })
        .zremrangebyscore(index, "-inf", now - ttlSeconds * 1000)
        .expire(index, ttlSeconds)
        .exec();
    });
  }

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
      return { id: session, messages: parseMessages(messages), summary, expiresAt: now + Math.max(0, Number(pttl)) };
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
  return new SessionStore(redisClient(config), config.sessions);
}
