import type { Redis } from "@upstash/redis/cloudflare";
import type { ChatMessage } from "../messages/schema";
import type { Config } from "../config";
import { ApiError, ServiceUnavailableError } from "../http/errors";
import { keys } from "../redis/keys";
import { profileCache } from "./profile-cache";
import { log } from "../http/log";
import { describeRedisError, redisClient, withRedis } from "../redis/client";
import { parseStoredMessages } from "./stored-message";
import { parseSummary } from "./summary-record";
import { formatConversation, parseConversation, type ConversationInfo } from "./conversation-record";
import { readExportPage, type ExportPage, type PageCursor } from "./export-page";
import { forgetSessionRecall, indexMessages, recallKeysOf, type RecallSettings } from "./recall-index";

export interface SessionSettings {
  ttlSeconds: number;
  maxStored: number;
  maxPerUser: number;
  /** Set when profiles are on (Cosmos configured): an erasure then caches an empty profile. */
  profileCacheTtlSeconds: number | undefined;
  /** Set with RECALL on: a conversation's first items are indexed as a turn's messages are. */
  recall: RecallSettings | undefined;
}

export interface SessionInfo {
  id: string;
  lastActiveAt: number;
  expiresAt: number;
}

export interface Erasure {
  sessionsDeleted: number;
  /** Sessions still to delete: the next DELETE /v1/profile goes on from there. */
  sessionsRemaining: number;
}

/**
 * Sessions forgotten per Upstash request: a page's DEL (ten keys a session, ids up to 128
 * characters) stays near 880 KB, under Upstash's 1 MB limit.
 */
const PAGE = 300;
/** Pages one erasure request works through before it answers with what is left (10,200 sessions). */
const PAGES_PER_ERASURE = 34;

/** Every key of one session. */
export const sessionKeys = (user: string, session: string) => [
  keys.session(user, session),
  keys.summary(user, session),
  keys.turns(user, session),
  keys.turnOrder(user, session),
  keys.claims(user, session),
  keys.appended(user, session),
  keys.responses(user, session),
  keys.conversation(user, session),
  keys.recalled(user, session),
  keys.recallQuery(user, session),
];

export interface StoredSession {
  id: string;
  messages: ChatMessage[];
  /** The position of messages[0] among everything the session ever appended. */
  firstPosition: number;
  summary: string | null;
  /** How many of the listed messages, from the first, the summary already stands for (the window no longer shows them). */
  summaryCovers: number;
  expiresAt: number;
}

/** The summary, and how many of the `listed` stored messages (from the first) it covers. */
function summaryOf(raw: unknown, appended: unknown, listed: number): { summary: string | null; summaryCovers: number; firstPosition: number } {
  const record = parseSummary(raw);
  const total = Number(appended ?? listed);
  const head = Number.isSafeInteger(total) && total >= listed ? total - listed : 0;
  return { summary: record?.text ?? null, summaryCovers: Math.min(listed, Math.max(0, (record?.upTo ?? 0) - head)), firstPosition: head };
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

  /**
   * Everything stored for one session, or null when it does not exist (or belongs to someone else).
   * A conversation created without items exists with no messages, until it expires like any session.
   */
  get(user: string, session: string, now = Date.now()): Promise<StoredSession | null> {
    return withRedis("get", async () => {
      const [messages, summary, pttl, appended, conversationTtl] = await this.redis
        .pipeline()
        .lrange(keys.session(user, session), 0, -1)
        .get<string>(keys.summary(user, session))
        .pttl(keys.session(user, session))
        .get<string>(keys.appended(user, session))
        .pttl(keys.conversation(user, session))
        .exec<[string[], string | null, number, string | null, number]>();
      const listed = Array.isArray(messages) ? messages : [];
      // PTTL is -2 for a key that is not there.
      if (listed.length === 0 && Number(conversationTtl) < 0) return null;
      const ttl = listed.length > 0 ? Number(pttl) : Number(conversationTtl);
      return { id: session, messages: parseStoredMessages(listed), ...summaryOf(summary, appended, listed.length), expiresAt: now + Math.max(0, ttl) };
    });
  }

  /** One page of the user's export (export-page.ts): a few MB whatever the sessions hold. */
  exportPage(user: string, cursor: PageCursor | undefined, now = Date.now()): Promise<ExportPage> {
    return readExportPage(this.redis, user, cursor, this.settings.ttlSeconds * 1000, now);
  }

  /**
   * Stamps the user as erased at `now`, before anything of theirs is deleted (erase() stamps the
   * same again): a turn or a learning job that loaded before it takes back what it writes after.
   */
  markErased(user: string, now: number): Promise<void> {
    return withRedis("erase", async () => {
      await this.redis.set(keys.erased(user), String(now), { ex: this.settings.ttlSeconds });
    });
  }

  /**
   * Erases the user from Redis, a page of sessions per request, oldest first (the index knows every
   * live one), then the index and the cached profile, which is replaced by an empty one so a turn
   * in flight cannot re-cache the old. The erasure is stamped first, so such a turn also takes back
   * its save (TurnMemory). Stops after PAGES_PER_ERASURE pages and says what is left; calling it
   * again goes on (each page is deleted and unindexed together, so nothing is deleted twice or missed).
   */
  async erase(user: string, now = Date.now()): Promise<Erasure> {
    const index = keys.sessionIndex(user);
    let deleted = 0;
    try {
      let [, page] = await this.redis
        .pipeline()
        .set(keys.erased(user), String(now), { ex: this.settings.ttlSeconds })
        .zrange(index, 0, PAGE - 1)
        .exec<[unknown, string[]]>();
      for (let pages = 0; page.length > 0 && pages < PAGES_PER_ERASURE; pages++) {
        const [, , next] = await this.redis
          .multi()
          .del(...page.flatMap((id) => sessionKeys(user, id)))
          .zrem(index, ...page)
          .zrange(index, 0, PAGE - 1)
          .exec<[number, number, string[]]>();
        deleted += page.length;
        page = next;
      }
      if (page.length > 0) return { sessionsDeleted: deleted, sessionsRemaining: await this.redis.zcard(index) };
      // Recall outlives sessions, so it goes only with the user.
      const finish = this.redis.multi().del(index, ...recallKeysOf(user));
      const cacheTtl = this.settings.profileCacheTtlSeconds;
      if (cacheTtl !== undefined) profileCache.write(finish, user, {}, cacheTtl);
      await finish.exec();
      return { sessionsDeleted: deleted, sessionsRemaining: 0 };
    } catch (error) {
      if (error instanceof ApiError) throw error;
      log("error", "redis_failed", { op: "erase", error: describeRedisError(error), sessions_deleted: deleted });
      throw new ServiceUnavailableError(
        `The erasure did not finish (${deleted} sessions were deleted before session memory failed); send DELETE /v1/profile again to finish it.`,
        { code: "erasure_incomplete" },
      );
    }
  }

  /**
   * Forgets the user's least recently active sessions, keeping MAX_SESSIONS_PER_USER - 1 (room for
   * the session of the turn that asked), so a client that starts a session per request cannot grow
   * the index (and an erasure) without bound.
   */
  async makeRoom(user: string, current: string): Promise<number> {
    const index = keys.sessionIndex(user);
    return withRedis("evict", async () => {
      const doomed = (await this.redis.zrange<string[]>(index, 0, -this.settings.maxPerUser)).filter((id) => id !== current);
      for (let start = 0; start < doomed.length; start += PAGE) {
        const page = doomed.slice(start, start + PAGE);
        await this.redis
          .multi()
          .del(...page.flatMap((id) => sessionKeys(user, id)))
          .zrem(index, ...page)
          .exec();
      }
      return doomed.length;
    });
  }

  /**
   * Starts a session through the Conversations API, with its first messages if any, in one
   * transaction. Its record (when, and the client's metadata) lives as long as the session.
   */
  createConversation(user: string, session: string, messages: readonly ChatMessage[], metadata: Record<string, string>, now = Date.now()): Promise<ConversationInfo> {
    const { ttlSeconds } = this.settings;
    return withRedis("create_conversation", async () => {
      const transaction = this.redis.multi().set(keys.conversation(user, session), formatConversation(now, metadata), { ex: ttlSeconds });
      if (messages.length > 0) {
        const key = keys.session(user, session);
        transaction
          .rpush(key, ...messages.map((message) => JSON.stringify(message)))
          .ltrim(key, -this.settings.maxStored, -1)
          .expire(key, ttlSeconds)
          .incrby(keys.appended(user, session), messages.length)
          .expire(keys.appended(user, session), ttlSeconds);
        if (this.settings.recall) indexMessages(transaction, { user, session, idempotencyKey: undefined, messages, now, settings: this.settings.recall, sessionTtlSeconds: ttlSeconds });
      }
      await transaction.zadd(keys.sessionIndex(user), { score: now, member: session }).expire(keys.sessionIndex(user), ttlSeconds).exec();
      return { id: session, createdAt: now, metadata };
    });
  }

  /**
   * A session seen as a conversation: one created through the Conversations API, or any session
   * with messages (its creation time is then its first activity the index still knows: its last).
   */
  conversation(user: string, session: string): Promise<ConversationInfo | null> {
    return withRedis("get_conversation", async () => {
      const [record, length, lastActive] = await this.redis
        .pipeline()
        .get<string>(keys.conversation(user, session))
        .llen(keys.session(user, session))
        .zscore(keys.sessionIndex(user), session)
        .exec<[string | null, number, number | null]>();
      const stored = parseConversation(record);
      if (stored) return { id: session, createdAt: stored.created_at, metadata: stored.metadata };
      if (Number(length) > 0) return { id: session, createdAt: Number(lastActive ?? Date.now()), metadata: {} };
      return null;
    });
  }

  /** Forgets a session, and what it added to recall; false when there was nothing to forget. */
  remove(user: string, session: string): Promise<boolean> {
    return withRedis("remove", async () => {
      const transaction = this.redis.multi().del(...sessionKeys(user, session)).zrem(keys.sessionIndex(user), session);
      const [deleted] = await forgetSessionRecall(transaction, user, session).exec<[number, number, number]>();
      return Number(deleted) > 0;
    });
  }
}

/** The session store over the isolate's client, or over `redis` (a client holding a session's sync token). */
export function sessionStore(config: Config, redis: Redis = redisClient(config)): SessionStore {
  return new SessionStore(redis, { ...config.sessions, profileCacheTtlSeconds: config.cosmos?.cacheTtlSeconds, recall: config.recall });
}
