import type { Redis } from "@upstash/redis/cloudflare";
import type { AssistantMessage } from "../messages/reply";
import type { ChatMessage } from "../messages/schema";
import type { Config } from "../config";
import { describeError, log } from "../http/log";
import { UnprocessableError } from "../http/errors";
import { keys } from "../redis/keys";
import { profileCache } from "./profile-cache";
import { profileStore, type Preferences, type ProfileStore } from "./profile-store";
import { appendOnce } from "./append-once";
import { CLAIM_SCRIPT, RELEASE_SCRIPT, committedFor, committedValue, parseClaim, parseCommitted, type ClaimOutcome, type TurnClaim } from "./turn-claim";
import { keepResponse } from "./keep-response";
import { describeRedisError, redisClient, withRedis, withRedisWrite } from "../redis/client";
import { RedisBatch } from "../redis/batch";
import { sessionKeys, sessionStore, type SessionStore } from "./session-store";
import { parseSummary, type SummaryRecord } from "./summary-record";
import { parseStoredMessages } from "./stored-message";
import { forgetSessionRecall, indexMessages, parseRecalled, searchRecall, type Recalled } from "./recall-index";

const DAY_MS = 86_400_000;
/** The search's byte budget per token of RECALL_MAX_TOKENS: a little over the estimate's 4, so the prompt's cut has room to choose. */
const RECALL_BYTES_PER_TOKEN = 5;
/** Messages the search ranks at most (each may bring the reply that followed it). */
const RECALL_MAX_HITS = 12;

export interface LoadedMemory {
  /** The last stored messages of the session that the summary does not stand for, oldest first. */
  messages: ChatMessage[];
  summary: string | null;
  /** The summary's watermark: messages at positions below it are folded into the summary. */
  watermark: number;
  /** The position of `messages[0]` (counted over everything the session ever appended). */
  firstPosition: number;
  /** How many messages the session ever appended: 0 for a session that does not exist yet. */
  appended: number;
  preferences: Preferences;
  /** What the turn goes on without, e.g. "profile" when Cosmos did not answer. */
  degraded: string[];
  /** Preferences read from Cosmos on a cache miss, cached by the turn's save. */
  uncachedProfile: Preferences | undefined;
  /**
   * The user's erasure stamp as the load found it (null: none). A different one at the save means
   * an erasure came in between: the save is taken back. A stamp, not a clock: a turn that starts
   * right after an erasure has finished is kept, whatever the machines' clocks say.
   */
  erasedAt: string | null;
  /** The reply of a turn this session already committed under the request's Idempotency-Key. */
  committedReply: AssistantMessage | undefined;
  /** What the load's claim of the request's Idempotency-Key found; undefined without one. */
  claim: ClaimOutcome | undefined;
  /** Whether the session holds the response the turn continues (TurnTarget.previousResponse). */
  holdsPreviousResponse: boolean;
  /** The user's earlier messages from other sessions that the turn's recall query found, best first. */
  recalled: Recalled[];
}

export function emptyMemory(): LoadedMemory {
  return {
    messages: [],
    summary: null,
    watermark: 0,
    firstPosition: 0,
    appended: 0,
    preferences: {},
    degraded: [],
    uncachedProfile: undefined,
    erasedAt: null,
    committedReply: undefined,
    claim: undefined,
    holdsPreviousResponse: false,
    recalled: [],
  };
}

export interface TurnTarget {
  user: string;
  /** Absent for a stateless request: no history is read or written. */
  session: string | undefined;
  /** The client's Idempotency-Key for this turn: a session stores a turn once per key. */
  idempotency?: Idempotency | undefined;
  /** A Responses API id the turn continues: the load tells whether this session holds it. */
  previousResponse?: string | undefined;
  /** With RECALL on: the terms to search the user's earlier messages by (none: no search). */
  recallTerms?: string[] | undefined;
}

/** A turn's Idempotency-Key, what it stands for, and this attempt's claim on it. */
export interface Idempotency {
  key: string;
  /** The request the key was sent with (requestFingerprint): a retry must be the same request. */
  fingerprint: string;
  claim: TurnClaim;
}

/** A Responses API record the save writes with the turn, under its response id. */
export interface ResponseRecord {
  id: string;
  /** The record as stored (JSON); read back through parseResponseRecord. */
  json: string;
}

/**
 * The memory of one chat turn, in as few round trips as the design allows: one Upstash pipeline
 * to load (history, summary, cached profile, and whatever the caller adds: the rate limit), a
 * Cosmos point read only when the profile is not cached, and one Upstash transaction to save
 * (the turn, and the profile into the cache).
 */
export class TurnMemory {
  constructor(
    private readonly redis: Redis,
    private readonly config: Config,
    /** Opens the profile store; called only on a cache miss, so a hit never loads the Cosmos SDK. */
    private readonly profiles: (() => Promise<ProfileStore>) | undefined,
    /** Work that must finish but not on the user's time (waitUntil). */
    private readonly background: (work: Promise<unknown>) => void,
    /** Forgets the sessions of a user who has more than MAX_SESSIONS_PER_USER. */
    private readonly sessions: SessionStore,
  ) {}

  /** A batch for this turn's Redis reads; the caller may add its own commands before sending it. */
  batch(): RedisBatch {
    return new RedisBatch(this.redis);
  }

  /**
   * Queues the turn's reads (the last `count` messages, the summary, the cached profile) in
   * `batch`, and resolves with what the cache lacked filled in from Cosmos once the caller has
   * sent the batch and `admitted` (the rate limit's verdict) allows any further work.
   */
  async load({ user, session, idempotency, previousResponse, recallTerms }: TurnTarget, count: number, batch: RedisBatch, admitted: Promise<void> = Promise.resolve(), now = Date.now()): Promise<LoadedMemory> {
    const memory = emptyMemory();
    const messages = session ? batch.add<unknown>((p) => p.lrange(keys.session(user, session), -count, -1)) : undefined;
    const summary = session ? batch.add<unknown>((p) => p.get(keys.summary(user, session))) : undefined;
    const cachedProfile = this.profiles ? batch.add<unknown>((p) => profileCache.read(p, user)) : undefined;
    const sessionCount = session ? batch.add<unknown>((p) => p.zcard(keys.sessionIndex(user))) : undefined;
    const claimed = session && idempotency ? batch.add<unknown>((p) => p.eval(CLAIM_SCRIPT, [keys.turns(user, session), keys.claims(user, session)], claimArguments(idempotency, now))) : undefined;
    const appended = session ? batch.add<unknown>((p) => p.get(keys.appended(user, session))) : undefined;
    const previous = session && previousResponse ? batch.add<unknown>((p) => p.hexists(keys.responses(user, session), previousResponse)) : undefined;
    const erased = batch.add<unknown>((p) => p.get(keys.erased(user)));
    const { recall } = this.config;
    const found =
      recall && recallTerms && (recallTerms.length > 0 || session)
        ? batch.add<unknown>((p) => searchRecall(p, { user, exclude: session, terms: recallTerms, budgetBytes: recall.maxTokens * RECALL_BYTES_PER_TOKEN, maxHits: RECALL_MAX_HITS }))
        : undefined;

    const [storedMessages, storedSummary, storedProfile, sessions, claim, appendedCount, holdsPrevious, erasedAt, recalled] = await withRedis("load", () =>
      Promise.all([messages, summary, cachedProfile, sessionCount, claimed, appended, previous, erased, found]),
    );
    memory.recalled = parseRecalled(recalled);
    memory.erasedAt = erasedAt === null || erasedAt === undefined ? null : String(erasedAt);
    memory.claim = idempotency ? parseClaim(claim, idempotency.fingerprint) : undefined;
    memory.committedReply = memory.claim?.state === "committed" ? memory.claim.reply : undefined;
    memory.holdsPreviousResponse = Number(holdsPrevious) === 1;
    // At the cap, room is made for this turn's session too (it may be a new one).
    if (session && Number(sessions) >= this.config.sessions.maxPerUser) {
      this.background(this.sessions.makeRoom(user, session).catch(() => {}));
    }
    placeHistory(memory, parseStoredMessages(storedMessages), parseSummary(storedSummary), Number(appendedCount ?? NaN));
    if (this.profiles) {
      const cached = profileCache.parse(storedProfile);
      await admitted;
      if (cached) memory.preferences = cached;
      else await this.loadProfile(user, memory);
    }
    return memory;
  }

  /**
   * Asks once more whether the session holds `previousResponse`. Only a chained turn whose load did
   * not find it asks: on Upstash Global the replica may not have that turn's save yet, and this
   * client now carries the token of the load's answer (the primary's position then, the previous
   * save included), so this read waits for the replica to catch up. A gone or foreign id costs
   * one more round trip before its 404.
   */
  async holdsResponse({ user, session, previousResponse }: TurnTarget): Promise<boolean> {
    if (!session || !previousResponse) return false;
    return Number(await withRedis("load", () => this.redis.hexists(keys.responses(user, session), previousResponse))) === 1;
  }

  private async loadProfile(user: string, memory: LoadedMemory): Promise<void> {
    try {
      const store = await this.profiles!();
      const profile = await store.read(user);
      memory.preferences = profile.preferences;
      memory.uncachedProfile = profile.preferences;
      if (needsTtlRefresh(profile.modifiedAt, Date.now())) {
        this.background(store.touch(user).catch((error: unknown) => logProfileFailure("touch", error)));
      }
    } catch (error) {
      logProfileFailure("read", error);
      memory.degraded.push("profile");
    }
  }

  /**
   * Saves the turn in one transaction; the profile read from Cosmos (if any) is cached with it,
   * unless something newer is cached by then (a profile write in the meantime). With an
   * Idempotency-Key the append happens at most once per key, and if an earlier attempt won the race
   * its stored reply is returned (nothing of this attempt was appended). A Responses record, if
   * given, is written in the same transaction: whoever sees the answer can chain from it. `order`
   * is the session's appended count after this save: saves that race commit in its order, so it
   * tells which one's sync token is the newer.
   */
  async save(
    { user, session, idempotency }: TurnTarget,
    messages: readonly ChatMessage[],
    memory: LoadedMemory,
    record?: ResponseRecord,
    now = Date.now(),
  ): Promise<{ earlier?: AssistantMessage; order?: number }> {
    const transaction = this.redis.multi();
    const stored = session ? messages.map((message) => JSON.stringify(message)) : [];
    // First, so the answer tells whether the user was erased while this turn was in flight.
    transaction.get<string>(keys.erased(user));
    let commands = 0;
    if (session && stored.length > 0) {
      const { ttlSeconds, maxStored } = this.config.sessions;
      const key = keys.session(user, session);
      const index = keys.sessionIndex(user);
      if (idempotency) appendOnce(transaction, { user, session, idempotencyKey: idempotency.key, fingerprint: idempotency.fingerprint, stored, maxStored });
      else transaction.rpush(key, ...stored).ltrim(key, -maxStored, -1).incrby(keys.appended(user, session), stored.length);
      transaction
        .expire(key, ttlSeconds)
        .expire(keys.summary(user, session), ttlSeconds)
        .expire(keys.turns(user, session), ttlSeconds)
        .expire(keys.turnOrder(user, session), ttlSeconds)
        .expire(keys.appended(user, session), ttlSeconds)
        .expire(keys.conversation(user, session), ttlSeconds)
        .expire(keys.responses(user, session), ttlSeconds)
        .zadd(index, { score: now, member: session })
        // Index entries of sessions that have expired go with the same write.
        .zremrangebyscore(index, "-inf", now - ttlSeconds * 1000)
        .expire(index, ttlSeconds);
      if (this.config.recall) {
        indexMessages(transaction, { user, session, idempotencyKey: idempotency?.key, messages, now, settings: this.config.recall, sessionTtlSeconds: ttlSeconds });
        transaction.expire(keys.recalled(user, session), ttlSeconds);
      }
      if (record) {
        keepResponse(transaction, {
          key: keys.responses(user, session),
          id: record.id,
          json: record.json,
          ttlSeconds,
          // What the turns hash holds under the key if this reply is the one committed: as the load
          // read it for a replay (whatever its format), else as the append writes it.
          committed: idempotency
            ? {
                turnsKey: keys.turns(user, session),
                idempotencyKey: idempotency.key,
                reply: memory.claim?.state === "committed" ? memory.claim.stored : committedValue(idempotency.fingerprint, stored.at(-1)!),
              }
            : undefined,
        });
      }
      commands++;
    }
    if (memory.uncachedProfile && this.config.cosmos) {
      profileCache.write(transaction, user, memory.uncachedProfile, this.config.cosmos.cacheTtlSeconds, { ifAbsent: true });
      commands++;
    }
    if (commands === 0) return {};
    const [erasedAt, ...results] = await withRedisWrite("save", () => transaction.exec<[string | null, ...unknown[]]>());
    // The append's answer: the conditional one's first, the plain one's INCRBY after RPUSH and LTRIM.
    const appended = session && stored.length > 0 ? results[idempotency ? 0 : 2] : undefined;
    // An earlier attempt with this key committed the turn: nothing of ours was written.
    if (idempotency && typeof appended === "string") {
      const earlier = parseCommitted(appended);
      // Another request took the key while this one ran unclaimed (its claim had expired).
      if (!committedFor(idempotency.fingerprint, earlier)) throw keyReused();
      if (earlier.reply) return { earlier: earlier.reply };
      return {};
    }
    if (session && erasedAt !== null && String(erasedAt) !== memory.erasedAt) {
      await this.undo(user, session, stored, idempotency?.key, record?.id);
    }
    return typeof appended === "number" ? { order: appended } : {};
  }

  /**
   * Lets go of the turn's claim on its Idempotency-Key (if it still holds it): the turn ends
   * without committing, and a retry may run it at once. One request, only on such a failure; if it
   * fails too, the claim expires by its deadline.
   */
  async release({ user, session, idempotency }: TurnTarget): Promise<void> {
    if (!session || !idempotency) return;
    try {
      await this.redis.eval(RELEASE_SCRIPT, [keys.claims(user, session)], [idempotency.key, idempotency.claim.owner]);
    } catch (error) {
      log("warn", "redis_failed", { op: "release_claim", error: describeRedisError(error) });
    }
  }

  /**
   * Takes back exactly what a save wrote after the user was erased (other turns' messages stay),
   * and the session's index entry if nothing is left of it. Rare: an erasure during a turn.
   */
  private async undo(user: string, session: string, stored: readonly string[], idempotencyKey: string | undefined, response: string | undefined): Promise<void> {
    const key = keys.session(user, session);
    const pipeline = this.redis.pipeline();
    for (const message of stored) pipeline.lrem(key, 1, message);
    if (idempotencyKey) pipeline.hdel(keys.turns(user, session), idempotencyKey).lrem(keys.turnOrder(user, session), 1, idempotencyKey);
    if (response) pipeline.hdel(keys.responses(user, session), response);
    // What this session added to recall since the erasure goes too (the erasure deleted the rest).
    if (this.config.recall) forgetSessionRecall(pipeline, user, session);
    pipeline.incrby(keys.appended(user, session), -stored.length);
    pipeline.llen(key);
    const results = await withRedis("undo", () => pipeline.exec<number[]>());
    if (Number(results.at(-1)) === 0) {
      await withRedis("undo", () => this.redis.multi().zrem(keys.sessionIndex(user), session).del(...sessionKeys(user, session)).exec());
    }
    log("info", "turn_undone_after_erasure");
  }
}

/**
 * Where the loaded messages stand: the last `loaded.length` of `appended` messages, of which those
 * below the summary's watermark are in the summary and leave the window's history. (A session
 * written before the count was kept counts what was loaded.)
 */
function placeHistory(memory: LoadedMemory, loaded: ChatMessage[], summary: SummaryRecord | undefined, appended: number): void {
  const total = Number.isSafeInteger(appended) && appended >= loaded.length ? appended : loaded.length;
  const watermark = Math.min(summary?.upTo ?? 0, total);
  const firstLoaded = total - loaded.length;
  memory.appended = total;
  memory.watermark = watermark;
  memory.summary = summary?.text ?? null;
  memory.firstPosition = Math.max(watermark, firstLoaded);
  memory.messages = loaded.slice(memory.firstPosition - firstLoaded);
}

/** The claim script's ARGV (turn-claim.ts), for this attempt at `now`. */
function claimArguments({ key, fingerprint, claim }: Idempotency, now: number): string[] {
  return [key, fingerprint, claim.owner, String(now), String(now + claim.lifetimeMs), String(claim.lifetimeMs), claim.takeOver ? "1" : "0"];
}

/** A key the session committed, or one that is running, for another request than this one. */
export function keyReused(): UnprocessableError {
  return new UnprocessableError(
    "This Idempotency-Key was already used for another request (other messages, or another model); send a new key for a new request.",
    { param: "Idempotency-Key", code: "idempotency_key_reused" },
  );
}

/**
 * Activity keeps a profile alive: Cosmos counts a document's TTL from its last write, so a
 * document not written for a day gets its TTL rewritten. This is asked on cache misses, which
 * come at least every PROFILE_CACHE_TTL_SECONDS while a user is active: about once a day per
 * active user, never on a cache hit.
 */
export function needsTtlRefresh(modifiedAt: number | undefined, now: number): boolean {
  return modifiedAt !== undefined && now - modifiedAt > DAY_MS;
}

function logProfileFailure(op: string, error: unknown): void {
  log("warn", "profile_unavailable", { op, reason: describeError(error) });
}

/** A turn's memory, over `redis` (a session turn's own client, see sessionRedis) or the isolate's. */
export function turnMemory(config: Config, background: (work: Promise<unknown>) => void, redis: Redis = redisClient(config)): TurnMemory {
  const cosmos = config.cosmos;
  return new TurnMemory(redis, config, cosmos && (() => profileStore(cosmos)), background, sessionStore(config));
}
