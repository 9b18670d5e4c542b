import type { Redis } from "@upstash/redis/cloudflare";
import type { Caller } from "../auth/caller";
import type { AssistantMessage } from "../messages/reply";
import type { ChatMessage } from "../messages/schema";
import { messageText } from "../messages/text";
import type { Config } from "../config";
import { log } from "../http/log";
import type { ServerTiming } from "../http/server-timing";
import { assertTurnFits, budgetLeft, fitSave, savedSize } from "../memory/save-budget";
import { toStoredMessage } from "../memory/stored-message";
import { keyReused, turnMemory, type Idempotency, type ResponseRecord, type TurnMemory, type TurnTarget } from "../memory/turn-memory";
import { ConflictError } from "../http/errors";
import { foldSummary } from "../memory/fold-summary";
import { redisClient, sessionRedis } from "../redis/client";
import { rememberSave, sessionSyncStart, type SyncSource } from "./session-sync";
import { upstreamClient } from "../upstream/client";
import { learnPreferences } from "../memory/learn-preferences";
import { profileStore } from "../memory/profile-store";
import { loadTokenizer } from "../tokenizer-sdk";
import { loadTurn, reloadMemory, type LoadedTurn } from "./load";
import { isSyncToken } from "./sync-token";
import { claimLifetimeMs, requestFingerprint } from "./idempotency-key";
import { buildRecallMessage, buildSystemMessage } from "./prompt";
import { MAX_QUERY_TERMS, queryTerms } from "../memory/recall-index";
import { slideWindow } from "./window";

export interface TurnOptions {
  config: Config;
  caller: Caller;
  user: string;
  /** Absent for a stateless request: nothing is read or written but the user's preferences. */
  session: string | undefined;
  /** The client's Idempotency-Key: a session stores a turn once per key, and runs it once at a time. */
  idempotencyKey: string | undefined;
  /**
   * Set where attempts with one Idempotency-Key already run one at a time: in the session's Durable
   * Object, whose attach middleware holds a retry back while the first attempt runs (c.get("replyLog")
   * is set). A claim such a retry finds is one its failed attempt left: it takes it over, never a 409.
   */
  retriesSerialized?: boolean;
  /** The model the upstream is asked for: with the new turn, what a retry under the same key must repeat. */
  model: string;
  /** A Responses API id the turn continues: Turn.holdsPreviousResponse says whether the session has it. */
  previousResponse?: string | undefined;
  /** The session's sync token as the client echoed it (X-Session-Sync): the load waits for that save. */
  syncToken?: string | undefined;
  /** The client's own system/developer text (API-key callers): it replaces the base prompt. */
  instructions: { text: string; role: "system" | "developer" } | undefined;
  /** The client's copy of what came before: it only starts a session that has nothing stored. */
  earlier: readonly ChatMessage[];
  /** What this turn adds: the new user message(s) or tool results. */
  newTurn: readonly ChatMessage[];
  timing: ServerTiming;
  /** Work that must finish but not on the user's time (waitUntil). */
  background: (work: Promise<unknown>) => void;
  /** What the front door adds to the turn's log line: its protocol, the model, whether it streams. */
  describe: Record<string, unknown>;
  /** False when the client asked this turn not to search the user's earlier sessions (X-Memory-Recall: off). */
  recall?: boolean;
}

/**
 * What recall searches by: the new user message, and when it says little on its own ("and when
 * was that?"), the client's last user message before it too. (A new-turn client sends none: the
 * search then adds the terms the session kept of its last user message, inside Redis.) Undefined
 * when the turn asks nothing.
 */
function recallQuery(options: TurnOptions): string[] | undefined {
  const lastUser = (messages: readonly ChatMessage[]) => messages.findLast((message) => message.role === "user");
  const asked = lastUser(options.newTurn);
  if (!asked) return undefined;
  let terms = queryTerms(messageText(asked));
  const before = terms.length < 3 ? lastUser(options.earlier) : undefined;
  if (before) terms = [...new Set([...terms, ...queryTerms(messageText(before))])].slice(0, MAX_QUERY_TERMS);
  return terms;
}

/** A Responses record to save with the turn, made to fit `budgetBytes` of the save (or none, if it cannot). */
export type RecordWithin = (budgetBytes: number) => ResponseRecord | undefined;

export interface Turn {
  /** The prompt for the upstream: the system message, the window of history, the new turn. */
  messages: ChatMessage[];
  /** What every answer of this turn carries: session, rate limit, what the window did. A plain record: the response takes it as it is. */
  headers: Record<string, string>;
  /** Set when this session already committed a turn under the request's Idempotency-Key: answer with it, ask no model. */
  replay: AssistantMessage | undefined;
  /**
   * The turn ends without a reply to commit (its upstream failed, or the front door refused it
   * after the turn was opened): lets go of its Idempotency-Key so that a retry runs at once, instead
   * of being told the key is in use until the claim expires. Await it before answering with the
   * failure. Never fails; nothing to do after a commit, or without a key.
   */
  release(): Promise<void>;
  /** Whether the session holds TurnOptions.previousResponse (read with the rest of the turn's memory). */
  holdsPreviousResponse: boolean;
  /** Whether the session had nothing stored: the client's copy of earlier messages seeds it. */
  fresh: boolean;
  /**
   * Saves the turn with its reply in one transaction (before the answer ends, so the next turn
   * always sees it) and logs it. Resolves with the reply that stands: this one, or the one an
   * earlier attempt with the same Idempotency-Key committed meanwhile. A Responses record is saved
   * in the same transaction.
   */
  commit(reply: AssistantMessage, record?: RecordWithin): Promise<AssistantMessage>;
  /** The turn's log fields, for a front door's own lines (a stream that failed). */
  logFields: Record<string, unknown>;
}

/**
 * One turn, whatever protocol brought it: the rate limit and memory in one Upstash request (and a
 * Cosmos read on a profile cache miss), the prompt and the sliding window, then the save in one
 * transaction. Front doors translate their protocol to and from this; none of them touches Redis.
 */
export async function openTurn(options: TurnOptions): Promise<Turn> {
  const { config, session, timing } = options;
  const newTurn = options.newTurn.map(toStoredMessage);
  if (session) assertTurnFits(newTurn, config.limits.maxMessageBytes);
  const key = session ? options.idempotencyKey : undefined;
  const idempotency: Idempotency | undefined = key
    ? {
        key,
        fingerprint: await requestFingerprint(options.model, options.newTurn),
        claim: { owner: crypto.randomUUID(), lifetimeMs: claimLifetimeMs(config), takeOver: options.retriesSerialized === true },
      }
    : undefined;
  const target: TurnTarget = {
    user: options.user,
    session,
    idempotency,
    previousResponse: session ? options.previousResponse : undefined,
    recallTerms: config.recall && options.recall !== false ? recallQuery(options) : undefined,
  };
  // A session turn's own Redis client: it carries the session's sync token in, and its save's out.
  const sync = session ? await sessionSyncStart(config, options.user, session, options.syncToken) : undefined;
  const redis = sync ? sessionRedis(config, sync.token) : undefined;
  const store = session || config.cosmos || target.recallTerms ? turnMemory(config, options.background, redis) : undefined;

  const loaded = await timing.measure("memory", () => loadTurn(config, store, target));
  const claim = loaded.memory.claim;
  if (claim?.state === "reused") throw keyReused();
  if (claim?.state === "in_use") {
    // Soon, not when the claim expires: by then the first attempt has most likely committed, and
    // the retry is answered with its reply.
    throw new ConflictError("A request with this Idempotency-Key is still being answered; retry shortly to get its reply.", {
      param: "Idempotency-Key",
      code: "idempotency_key_in_use",
      headers: { "Retry-After": "1" },
    });
  }
  const held = heldClaim(claim?.state === "claimed" ? store : undefined, target);
  try {
    return await shapeTurn(options, { newTurn, target, redis, syncSource: sync?.source, store, loaded, held });
  } catch (error) {
    await held.release();
    throw error;
  }
}

/** The claim on the turn's Idempotency-Key while the turn holds it: until it commits, or lets go. */
interface HeldClaim {
  release(): Promise<void>;
  /** The save ended it (the append removes the claim): nothing left to release. */
  committed(): void;
}

function heldClaim(store: TurnMemory | undefined, target: TurnTarget): HeldClaim {
  let holding = store !== undefined;
  return {
    release: async () => {
      if (!holding || !store) return;
      holding = false;
      await store.release(target);
    },
    committed: () => void (holding = false),
  };
}

interface Opened {
  /** The new turn as the session stores it. */
  newTurn: ChatMessage[];
  target: TurnTarget;
  redis: Redis | undefined;
  /** Where a session turn's sync token came from. */
  syncSource: SyncSource | undefined;
  store: TurnMemory | undefined;
  loaded: LoadedTurn;
  held: HeldClaim;
}

/** The turn once its memory is loaded (and its key claimed): the prompt, the window, and how it commits. */
async function shapeTurn(options: TurnOptions, { newTurn, target, redis, syncSource, store, loaded, held }: Opened): Promise<Turn> {
  const { config, session, timing } = options;
  const { limitHeaders } = loaded;
  let memory = loaded.memory;
  // A chain from a response the session does not show: gone, or on a replica that has not got the
  // save yet (it ran in another region). Ask once more, waiting for the replica; only such turns pay.
  if (store && target.previousResponse && !memory.holdsPreviousResponse && !memory.committedReply) {
    if (await timing.measure("replica", () => store.holdsResponse(target))) memory = await reloadMemory(config, store, target);
  }
  // Stored history is authoritative; the client's copy only starts a session that has none.
  const fresh = memory.appended === 0;
  const seed = fresh ? options.earlier : [];
  const system = buildSystemMessage({
    instructions: options.instructions?.text ?? config.systemPrompt,
    role: options.instructions?.role ?? "system",
    preferences: memory.preferences,
    summary: memory.summary,
  });
  const recall = config.recall && memory.recalled.length > 0
    ? buildRecallMessage(memory.recalled, { role: options.instructions?.role ?? "system", maxTokens: config.recall.maxTokens, words: target.recallTerms ?? [] })
    : undefined;
  const window = slideWindow({
    system,
    recall: recall?.message,
    history: fresh ? options.earlier : memory.messages,
    newTurn: options.newTurn,
    maxMessages: config.window.maxMessages,
    maxTokens: config.window.maxTokens,
    // Loaded once per isolate, on the first turn that needs it; after that the await costs nothing.
    countTokens: config.window.tokenizer === "exact" ? (await loadTokenizer()).countTokens : undefined,
  });

  const headers: Record<string, string> = { ...limitHeaders, "X-History-Kept": String(window.kept), "X-History-Dropped": String(window.dropped) };
  // The estimate includes the operator's system prompt, whose length is not a widget's business.
  if (options.caller.kind === "api_key") headers["X-Prompt-Tokens-Estimated"] = String(window.estimatedTokens);
  if (session) headers["X-Session-Id"] = session;
  if (memory.degraded.length > 0) headers["X-Memory-Degraded"] = memory.degraded.join(", ");
  if (target.recallTerms) {
    const hits = window.recalled && recall ? recall.used : 0;
    headers["X-Recall-Hits"] = String(hits);
    // The search ran inside the load's request: its time is the memory phase's.
    timing.note("recall", `${hits} hits, in memory`);
  }

  // One line per turn for the operator: what the window did, never what was said (unless LOG_CONTENT).
  const logFields = {
    ...options.describe,
    history_kept: window.kept,
    history_dropped: window.dropped,
    prompt_tokens_estimated: window.estimatedTokens,
    ...(syncSource ? { sync: syncSource } : {}),
    ...(memory.degraded.length ? { degraded: memory.degraded } : {}),
  };

  const commit = async (reply: AssistantMessage, record?: RecordWithin): Promise<AssistantMessage> => {
    try {
      return await commitTurn(reply, record);
    } catch (error) {
      // Not committed, or not known to be: a retry runs at once, and the append keeps it once.
      await held.release();
      throw error;
    }
  };
  const commitTurn = async (reply: AssistantMessage, record?: RecordWithin): Promise<AssistantMessage> => {
    let standing = reply;
    if (store) {
      const { maxMessageBytes } = config.limits;
      const turn = session ? fitSave(seed.map(toStoredMessage), [...newTurn, toStoredMessage(reply)], maxMessageBytes, config.sessions.maxStored) : [];
      // The record takes what the turn leaves of the save's budget (less, with an Idempotency-Key,
      // the reply once more and the fingerprint twice: the record's write checks it is the one
      // committed); it never fails the turn.
      const keyed = target.idempotency && turn.length > 0 ? savedSize(turn.at(-1)!) + 2 * (target.idempotency.fingerprint.length + 4) : 0;
      const left = budgetLeft(turn) - keyed;
      const { earlier, order } = await timing.measure("persist", () => store.save(target, turn, memory, session ? record?.(left) : undefined));
      held.committed();
      if (earlier) standing = earlier;
      // What a client echoes to its next turn, which then reads this save wherever it runs.
      if (redis?.readYourWritesSyncToken && isSyncToken(redis.readYourWritesSyncToken)) {
        headers["X-Session-Sync"] = redis.readYourWritesSyncToken;
        await rememberSave(config, options.user, session!, redis.readYourWritesSyncToken, order);
      }
      // Stored messages the window no longer shows and the summary does not yet hold: fold them. A
      // session's first turn stored the client's earlier messages from position 0, less the oldest
      // the save had no room for.
      const seedDropped = seed.length - (turn.length - newTurn.length - 1);
      const firstKept = fresh ? window.dropped - seedDropped : memory.firstPosition + window.dropped;
      if (session && config.summary && !earlier && firstKept > memory.watermark) {
        // The turn's own client: on Upstash Global its reads come after this turn's save.
        const settings = { ...config.summary, timeoutMs: config.upstream.timeoutMs };
        options.background(foldSummary(redis ?? redisClient(config), upstreamClient(config), settings, { user: options.user, session, upTo: firstKept, erasedAt: memory.erasedAt }));
      }
    }
    if (config.learning && config.cosmos && standing === reply && saysSomething(options.newTurn)) {
      const cosmos = config.cosmos;
      options.background(
        learnPreferences({
          // The turn's own client: on Upstash Global it reads the erasure stamp after the turn's save.
          redis: redis ?? redisClient(config),
          upstream: upstreamClient(config),
          profiles: () => profileStore(cosmos),
          settings: { model: config.learning.model, timeoutMs: config.upstream.timeoutMs, maxProfileBytes: config.limits.maxProfileBytes, cacheTtlSeconds: cosmos.cacheTtlSeconds },
          user: options.user,
          preferences: memory.preferences,
          erasedAt: memory.erasedAt,
          newTurn: options.newTurn,
          reply,
        }),
      );
    }
    log("info", "turn", {
      ...logFields,
      ...(standing !== reply ? { idempotent_replay: true } : {}),
      ...(config.logContent ? { content: { new_turn: options.newTurn.map(messageText), reply: messageText(standing) } } : {}),
    });
    return standing;
  };

  if (memory.committedReply) log("info", "turn", { ...logFields, idempotent_replay: true });
  return {
    messages: window.messages,
    headers,
    replay: memory.committedReply,
    release: held.release,
    holdsPreviousResponse: memory.holdsPreviousResponse,
    fresh,
    commit,
    logFields,
  };
}

/**
 * Whether a turn could teach anything durable: tool results and a two-word "thanks" cannot, and
 * skipping them keeps the extra upstream calls to the turns that matter.
 */
function saysSomething(newTurn: readonly ChatMessage[]): boolean {
  return newTurn.some((message) => message.role === "user" && messageText(message).trim().split(/\s+/).length >= 3);
}
