import type { Redis } from "@upstash/redis/cloudflare";

type Transaction = ReturnType<Redis["multi"]>;

/**
 * A session keeps its last MAX_RESPONSES Responses records: past that the hash starts afresh with
 * the one being written (the one a chained call needs next), so a long conversation cannot grow
 * it forever. The TTL is the session's.
 */
export const KEEP_RESPONSE_SCRIPT = `
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1`;

const MAX_RESPONSES = 256;

/** Queues the record's write in the turn's save transaction. */
export function keepResponse(transaction: Transaction, key: string, id: string, json: string, ttlSeconds: number): Transaction {
  return transaction.eval(KEEP_RESPONSE_SCRIPT, [key], [id, json, String(MAX_RESPONSES), String(ttlSeconds)]);
}
