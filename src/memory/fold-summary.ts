import type { Redis } from "@upstash/redis/cloudflare";
import type OpenAI from "openai";
import type { ChatMessage } from "../messages/schema";
import { log, describeError } from "../http/log";
import { keys } from "../redis/keys";
import { describeRedisError } from "../redis/client";
import { parseStoredMessages } from "./stored-message";
import { capSummary, summaryRequest } from "./summary-prompt";
import { formatSummary, parseSummary } from "./summary-record";

export interface FoldSettings {
  model: string;
  maxTokens: number;
  /** How long the summariser may take; the lock outlives it by a margin. */
  timeoutMs: number;
}

/**
 * The messages at positions [from, upTo) still in the list, read in one step with the count they
 * are placed by: a save that trims the list's head between two reads would shift the range. Answers
 * the position of the list's head too, so a fold can tell that trimming took messages it never saw.
 */
export const READ_RANGE = `
local length = redis.call('LLEN', KEYS[1])
local total = tonumber(redis.call('GET', KEYS[2]) or length)
local head = total - length
local first = math.max(tonumber(ARGV[1]), head)
local last = tonumber(ARGV[2]) - 1
if last < first then return {head, {}} end
return {head, redis.call('LRANGE', KEYS[1], first - head, last - head)}`;

/**
 * Writes the new summary only if the old one is still what this fold started from (so two folds
 * can never both apply) and the session is still the one it read: it exists, it has appended at
 * least as many messages as the summary covers (a session deleted and started again under the
 * same id has not), and its user's erasure stamp is still the one the turn's load found (no
 * erasure since). It takes the session's own remaining lifetime; then the lock is let go.
 */
export const WRITE_IF_UNCHANGED = `
local current = redis.call('GET', KEYS[1]) or ''
local ttl = redis.call('PTTL', KEYS[2])
local appended = tonumber(redis.call('GET', KEYS[4]) or '0')
local erased = redis.call('GET', KEYS[5]) or ''
local written = 0
if current == ARGV[1] and ttl > 0 and appended >= tonumber(ARGV[3]) and erased == ARGV[4] then
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ttl)
  written = 1
end
redis.call('DEL', KEYS[3])
return written`;

export interface FoldTarget {
  user: string;
  session: string;
  /** Messages below this position are to be in the summary. */
  upTo: number;
  /** The user's erasure stamp as the turn's load found it: a different one means an erasure since. */
  erasedAt: string | null;
}

/**
 * Folds the session's messages below `upTo` (those the window no longer shows) into its summary:
 * one LLM call given the previous summary, then the summary and its watermark in one write. Runs
 * off the hot path. At most one runs per session (a lock); one that fails or is too slow changes
 * nothing, and a later turn that still finds messages outside both window and summary tries again.
 * `redis` should be the turn's own client: on Upstash Global it then reads after the turn's save.
 */
export async function foldSummary(redis: Redis, upstream: OpenAI, settings: FoldSettings, { user, session, upTo, erasedAt }: FoldTarget): Promise<void> {
  const lock = keys.summaryLock(user, session);
  const list = keys.session(user, session);
  const lockSeconds = Math.ceil(settings.timeoutMs / 1000) + 5;
  let locked = false;
  try {
    const [acquired, stored] = await redis
      .pipeline()
      .set(lock, "1", { nx: true, ex: lockSeconds })
      .get<string>(keys.summary(user, session))
      .exec<[string | null, string | null]>();
    if (acquired === null) return; // another turn is folding this session
    locked = true;
    const previous = parseSummary(stored);
    const from = previous?.upTo ?? 0;
    if (upTo <= from) return;
    const [head, raw] = await redis.eval<[string, string], [number, string[]]>(READ_RANGE, [list, keys.appended(user, session)], [String(from), String(upTo)]);
    const messages = parseStoredMessages(raw);
    // HISTORY_MAX_STORED trimmed these away before any fold took them in (it is below the window,
    // or the summariser failed for that long): they are gone, and the log says how many.
    const lost = Math.min(Number(head), upTo) - from;
    if (lost > 0) log("warn", "summary_gap", { messages: lost });
    if (messages.length === 0 && lost <= 0) return;

    // With nothing left to fold, the watermark alone moves past the gap, so turns stop asking.
    const text = messages.length === 0 ? (previous?.text ?? "") : await summarise(upstream, settings, previous?.text, messages);
    const written = await redis.eval<[string, string, string, string], number>(
      WRITE_IF_UNCHANGED,
      [keys.summary(user, session), list, lock, keys.appended(user, session), keys.erased(user)],
      [stored ?? "", formatSummary({ text, upTo }), String(upTo), erasedAt ?? ""],
    );
    locked = false;
    log("info", written === 1 ? "summary_folded" : "summary_discarded", { messages: messages.length, up_to: upTo });
  } catch (error) {
    log("warn", "summary_failed", { reason: error instanceof Error && error.name.startsWith("Upstash") ? describeRedisError(error) : describeError(error) });
  } finally {
    // A fold that failed lets the next turn try at once, not after the lock expires.
    if (locked) await redis.del(lock).catch(() => {});
  }
}

/** The old summary and `messages`, folded into a new one by the summariser (one call, no retries). */
async function summarise(upstream: OpenAI, settings: FoldSettings, previous: string | undefined, messages: ChatMessage[]): Promise<string> {
  const completion = await upstream.chat.completions.create(
    { model: settings.model, messages: summaryRequest(previous, messages), max_tokens: settings.maxTokens, stream: false },
    { signal: AbortSignal.timeout(settings.timeoutMs), maxRetries: 0 },
  );
  const text = capSummary(completion.choices[0]?.message?.content ?? "", settings.maxTokens);
  if (!text) throw new Error("the summariser answered with no text");
  return text;
}
