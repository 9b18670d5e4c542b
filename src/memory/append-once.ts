import type { Redis } from "@upstash/redis/cloudflare";
import { keys } from "../redis/keys";

type Transaction = ReturnType<Redis["multi"]>;

/**
 * A retried turn must not be stored twice, even when its first attempt's transaction is still on
 * its way to Redis while the retry runs (an abandoned REST call is not a rolled-back one). So the
 * append is conditional, inside Redis: a turn whose Idempotency-Key the session has committed is
 * not appended again, and the value stored with the key (the request's fingerprint and its reply)
 * comes back instead. Either way the key's claim (turn-claim.ts) is done with.
 *
 * The session remembers its keys in the order they were committed and forgets the oldest past
 * `maxKeys`, one at a time, so every turn the session still stores can be retried. The reply is
 * the last message appended, not sent a second time: a save's request must stay under Upstash's 1 MB.
 *
 * KEYS: the session's messages, its turns hash, its appended count, its key order, its claims.
 * ARGV: the key, maxStored, maxKeys, the request's fingerprint, then the messages (the reply last).
 */
export const APPEND_ONCE_SCRIPT = `
local stored = redis.call('HGET', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[5], ARGV[1])
if stored then return stored end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4] .. ' ' .. ARGV[#ARGV])
local over = redis.call('RPUSH', KEYS[4], ARGV[1]) - tonumber(ARGV[3])
if over > 0 then
  redis.call('HDEL', KEYS[2], unpack(redis.call('LRANGE', KEYS[4], 0, over - 1)))
  redis.call('LTRIM', KEYS[4], over, -1)
end
for i = 5, #ARGV, 500 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
return redis.call('INCRBY', KEYS[3], #ARGV - 4)`;

/** Never fewer than this many keys remembered, however few messages a session stores. */
const MIN_KEYS = 64;

/**
 * How many Idempotency-Keys a session remembers: one per turn it can still hold. A turn stores at
 * least two messages (what it adds, and the reply), so the last `maxStored` messages hold parts of
 * at most maxStored / 2 + 1 turns.
 */
export function keysRemembered(maxStored: number): number {
  return Math.max(MIN_KEYS, Math.floor(maxStored / 2) + 1);
}

export interface AppendOnce {
  user: string;
  session: string;
  idempotencyKey: string;
  /** The request's fingerprint (requestFingerprint), kept with the key: a reuse for another request is refused. */
  fingerprint: string;
  /** The turn's messages, each JSON-encoded as the session list stores them; the reply last. */
  stored: readonly string[];
  maxStored: number;
}

/**
 * Queues the conditional append in `transaction`. Its result is the session's appended count once
 * the turn was appended (a number), or the value (turn-claim.ts's committedValue, a string) that
 * an earlier attempt with the same key committed.
 */
export function appendOnce(transaction: Transaction, turn: AppendOnce): Transaction {
  const { user, session } = turn;
  return transaction.eval(
    APPEND_ONCE_SCRIPT,
    [keys.session(user, session), keys.turns(user, session), keys.appended(user, session), keys.turnOrder(user, session), keys.claims(user, session)],
    [turn.idempotencyKey, String(turn.maxStored), String(keysRemembered(turn.maxStored)), turn.fingerprint, ...turn.stored],
  );
}
