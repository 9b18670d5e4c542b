import type { Redis } from "@upstash/redis/cloudflare";
import type OpenAI from "openai";
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
 * Writes the new summary only if the old one is still what this fold started from (so two folds
 * can never both apply) and the session still exists (an erasure or a DELETE in the meantime
 * wins), with the session's own remaining lifetime; then lets go of the lock.
 */
const WRITE_IF_UNCHANGED = `
local current = redis.call('GET', KEYS[1]) or ''
local ttl = redis.call('PTTL', KEYS[2])
local written = 0
if current == ARGV[1] and ttl > 0 then
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ttl)
  written = 1
end
redis.call('DEL', KEYS[3])
return written`;

/**
 * Folds the session's messages below `upTo` (those the window no longer shows) into its summary:
 * one LLM call given the previous summary, then the summary and its watermark in one write. Runs
 * off the hot path. At most one runs per session (a lock); one that fails or is too slow changes
 * nothing, and a later turn that still finds messages outside both window and summary tries again.
 */
export async function foldSummary(redis: Redis, upstream: OpenAI, settings: FoldSettings, user: string, session: string, upTo: number): Promise<void> {
  const lock = keys.summaryLock(user, session);
  const list = keys.session(user, session);
  const lockSeconds = Math.ceil(settings.timeoutMs / 1000) + 5;
  let locked = false;
  try {
    const [acquired, stored, length, appended] = await redis
      .pipeline()
      .set(lock, "1", { nx: true, ex: lockSeconds })
      .get<string>(keys.summary(user, session))
      .llen(list)
      .get<string>(keys.appended(user, session))
      .exec<[string | null, string | null, number, string | null]>();
    if (acquired === null) return; // another turn is folding this session
    locked = true;
    const previous = parseSummary(stored);
    const from = previous?.upTo ?? 0;
    // List index 0 holds the message at position (appended - length): trimming moved the rest away.
    const total = Number(appended ?? length);
    const head = total - Number(length);
    const start = Math.max(from, head) - head;
    const end = upTo - 1 - head;
    if (upTo <= from || end < start) return;
    const messages = parseStoredMessages(await redis.lrange(list, start, end));
    if (messages.length === 0) return;

    const completion = await upstream.chat.completions.create(
      { model: settings.model, messages: summaryRequest(previous?.text, messages), max_tokens: settings.maxTokens, stream: false },
      { signal: AbortSignal.timeout(settings.timeoutMs), maxRetries: 0 },
    );
    const text = capSummary(completion.choices[0]?.message?.content ?? "", settings.maxTokens);
    if (!text) throw new Error("the summariser answered with no text");

    const next = formatSummary({ text, upTo });
    const written = await redis.eval<[string, string], number>(WRITE_IF_UNCHANGED, [keys.summary(user, session), list, lock], [stored ?? "", next]);
    locked = false;
    log("info", written === 1 ? "summary_folded" : "summary_discarded", { messages: messages.length, up_to: upTo });
  } catch (error) {
    log("warn", "summary_failed", { reason: error instanceof Error && error.name.startsWith("Upstash") ? describeRedisError(error) : describeError(error) });
  } finally {
    // A fold that failed lets the next turn try at once, not after the lock expires.
    if (locked) await redis.del(lock).catch(() => {});
  }
}
