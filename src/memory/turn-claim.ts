import type { AssistantMessage } from "../messages/reply";
import { parseStoredReply } from "./stored-message";

/**
 * A turn with an Idempotency-Key claims the key in its load, so that a retry arriving while the
 * first attempt still runs is told to wait (409) instead of asking the model a second time, and a
 * key reused for another request is refused (422). One script, queued in the load's pipeline: no
 * round trip of its own. It reads the committed turns first, so a retry of a finished turn is
 * answered from there whatever became of its claim.
 *
 * KEYS: the session's committed turns (hash), its claims (hash: key -> "deadline owner fingerprint").
 * ARGV: the key, the request's fingerprint, this attempt's owner id, now and the claim's deadline
 * (epoch ms: the worker's clock, which is within seconds of any other's, against claims of minutes),
 * the claim's lifetime (ms), and "1" to take over a live claim of the same request (see
 * TurnClaim.takeOver).
 *
 * The claims hash expires with its latest claim, which outlives every other (they share a
 * lifetime); past MAX_CLAIMS fields the expired ones (of workers that died) are dropped.
 */
const MAX_CLAIMS = 16;

export const CLAIM_SCRIPT = `
local committed = redis.call('HGET', KEYS[1], ARGV[1])
if committed then return {'committed', committed} end
local now = tonumber(ARGV[4])
local held = redis.call('HGET', KEYS[2], ARGV[1])
if held then
  local deadline, owner, fingerprint = string.match(held, '^(%d+) (%S+) (%S+)$')
  if deadline and tonumber(deadline) > now and owner ~= ARGV[3] then
    if fingerprint ~= ARGV[2] then return {'reused'} end
    if ARGV[7] ~= '1' then return {'in_use', deadline} end
  end
end
if redis.call('HLEN', KEYS[2]) >= ${MAX_CLAIMS} then
  local all = redis.call('HGETALL', KEYS[2])
  for i = 1, #all, 2 do
    local deadline = string.match(all[i + 1], '^(%d+) ')
    if not deadline or tonumber(deadline) <= now then redis.call('HDEL', KEYS[2], all[i]) end
  end
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[5] .. ' ' .. ARGV[3] .. ' ' .. ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
return {'claimed'}`;

/**
 * Lets go of a claim, if this attempt still holds it (a retry may have taken over an expired one):
 * the turn failed before it committed, and a retry may run it at once. KEYS: the claims hash.
 * ARGV: the key, the owner id.
 */
export const RELEASE_SCRIPT = `
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held and string.match(held, '^%d+ (%S+) ') == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0`;

/** This attempt's hold on its Idempotency-Key. */
export interface TurnClaim {
  /** Tells this attempt's claim from a retry's: only its owner releases it. */
  owner: string;
  /** How long the claim holds if the turn never says it is done (claimLifetimeMs). */
  lifetimeMs: number;
  /**
   * Where attempts with one key already run one at a time (a session's Durable Object holds a
   * retry back while its first attempt runs), a live claim of the same request is one that its
   * attempt left behind when it failed: the retry takes it over instead of waiting for it to expire.
   */
  takeOver: boolean;
}

/** What the load's claim found. */
export type ClaimOutcome =
  /** The key is this attempt's until it commits, releases, or the claim expires. */
  | { state: "claimed" }
  /** The session committed a turn under the key: `stored` is the hash's value, as the save's record check compares it. */
  | { state: "committed"; reply: AssistantMessage; stored: string }
  /** Another attempt of this request is running; it holds the key until `until` (epoch ms) at the latest. */
  | { state: "in_use"; until: number }
  /** The key belongs to another request (its messages or its model differ). */
  | { state: "reused" }
  /** The session committed something under the key that is not a reply: the turn runs as a new one, as before claims. */
  | { state: "unreadable" };

/**
 * A committed turn's value in the session's turns hash: the request's fingerprint, a space, and
 * the reply as the session list stores it. (Values written before fingerprints were kept are the
 * reply alone: a JSON object, which no fingerprint starts like.)
 */
export function committedValue(fingerprint: string, storedReply: string): string {
  return `${fingerprint} ${storedReply}`;
}

/** A committed turn's value read back: the reply, and the fingerprint it was committed under (undefined: an old value). */
export function parseCommitted(raw: unknown): { fingerprint: string | undefined; reply: AssistantMessage | undefined } {
  if (typeof raw !== "string") return { fingerprint: undefined, reply: undefined };
  if (raw.startsWith("{")) return { fingerprint: undefined, reply: parseStoredReply(raw) };
  const space = raw.indexOf(" ");
  if (space < 0) return { fingerprint: undefined, reply: undefined };
  return { fingerprint: raw.slice(0, space), reply: parseStoredReply(raw.slice(space + 1)) };
}

/** Whether a committed value stands for the request `fingerprint` names (an old value, without one, is taken to). */
export function committedFor(fingerprint: string, committed: { fingerprint: string | undefined }): boolean {
  return committed.fingerprint === undefined || committed.fingerprint === fingerprint;
}

/** The claim script's answer, parsed against the request's fingerprint. */
export function parseClaim(raw: unknown, fingerprint: string): ClaimOutcome {
  if (!Array.isArray(raw)) return { state: "unreadable" };
  const [state, value] = raw as unknown[];
  switch (state) {
    case "claimed":
      return { state: "claimed" };
    case "reused":
      return { state: "reused" };
    case "in_use": {
      const until = Number(value);
      return Number.isSafeInteger(until) ? { state: "in_use", until } : { state: "unreadable" };
    }
    case "committed": {
      const committed = parseCommitted(value);
      if (!committedFor(fingerprint, committed)) return { state: "reused" };
      return committed.reply && typeof value === "string" ? { state: "committed", reply: committed.reply, stored: value } : { state: "unreadable" };
    }
    default:
      return { state: "unreadable" };
  }
}
