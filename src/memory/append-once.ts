import type { Redis } from "@upstash/redis/cloudflare";
import { keys } from "../redis/keys";

type Transaction = ReturnType<Redis["multi"]>;

/**
 * A retried turn must not be stored twice, even when its first attempt's transaction is still on
 * its way to Redis while the retry runs (an abandoned REST call is not a rolled-back one). So the
 * append is conditional, inside Redis: a turn whose Idempotency-Key the session has committed is
 * not appended again, and the reply stored with the key comes back instead.
 *
 * The key list is bounded: past MAX_KEYS it starts afresh, keeping the turn being written, so the
 * most recent turn (the one clients retry) is always remembered. The reply is the last message
 * appended, not sent a second time: a save's request must stay under Upstash's 1 MB.
 */
export const APPEND_ONCE_SCRIPT = `
local stored = redis.call('HGET', KEYS[2], ARGV[1])
if stored then return stored end
if redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[3]) then redis.call('DEL', KEYS[2]) end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[#ARGV])
for i = 4, #ARGV, 500 do
  redis.call('RPUSH', KEYS[1], unpack(ARGV, i, math.min(i + 499, #ARGV)))
end
redis.call('LTRIM', KEYS[1], -tonumber(ARGV[2]), -1)
redis.call('INCRBY', KEYS[3], #ARGV - 3)
return 1`;

const MAX_KEYS = 64;

export interface AppendOnce {
  user: string;
  session: string;
  idempotencyKey: string;
  /** The turn's messages, each JSON-encoded as the session list stores them; the reply last. */
  stored: readonly string[];
  maxStored: number;
}

/**
 * Queues the conditional append in `transaction`. Its result is 1 when the turn was appended, or
 * the reply (as stored) that an earlier attempt with the same key committed.
 */
export function appendOnce(transaction: Transaction, turn: AppendOnce): Transaction {
  return transaction.eval(
    APPEND_ONCE_SCRIPT,
    [keys.session(turn.user, turn.session), keys.turns(turn.user, turn.session), keys.appended(turn.user, turn.session)],
    [turn.idempotencyKey, String(turn.maxStored), String(MAX_KEYS), ...turn.stored],
  );
}
