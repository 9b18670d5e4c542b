import type { Redis } from "@upstash/redis/cloudflare";

type Transaction = ReturnType<Redis["multi"]>;

/**
 * A session keeps its last MAX_RESPONSES Responses records: past that the hash starts afresh with
 * the one being written (the one a chained call needs next), so a long conversation cannot grow
 * it forever. The TTL is the session's. With an Idempotency-Key the record is written only if
 * the turn's reply is the one the session committed under that key: an attempt that lost the race
 * to an earlier one (whose append-once script ran first in Redis) records nothing.
 */
export const KEEP_RESPONSE_SCRIPT = `
if ARGV[5] and redis.call('HGET', KEYS[2], ARGV[5]) ~= ARGV[6] then return 0 end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[3]) then redis.call('DEL', KEYS[1]) end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1`;

const MAX_RESPONSES = 256;

export interface KeepResponse {
  /** The session's records hash. */
  key: string;
  id: string;
  json: string;
  ttlSeconds: number;
  /** Only with an Idempotency-Key: the session's turns hash, the key, and this turn's reply as stored. */
  committed?: { turnsKey: string; idempotencyKey: string; reply: string };
}

/** Queues the record's write in the turn's save transaction (after the append it depends on). */
export function keepResponse(transaction: Transaction, record: KeepResponse): Transaction {
  const args = [record.id, record.json, String(MAX_RESPONSES), String(record.ttlSeconds)];
  const { committed } = record;
  if (!committed) return transaction.eval(KEEP_RESPONSE_SCRIPT, [record.key], args);
  return transaction.eval(KEEP_RESPONSE_SCRIPT, [record.key, committed.turnsKey], [...args, committed.idempotencyKey, committed.reply]);
}
