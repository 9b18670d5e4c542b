import type { Command } from "./context";
import { wrongArity } from "./errors";
import { Hash } from "./keyspace";

// A session's committed turns by Idempotency-Key (src/memory/append-once.ts): its script reads
// and writes the hash and forgets the oldest keys, and a save undone after an erasure removes its
// key. A session's claims on the keys of turns still running (src/memory/turn-claim.ts) are one
// too, whose script reads them all to drop the expired. A session's Responses records
// (src/memory/response-store.ts) are a hash too.

/** HGET key field */
export const hget: Command = ({ keyspace }, [key = "", field = ""]) => keyspace.hash(key)?.get(field) ?? null;

/** HSET key field value [field value ...] -> how many fields were new */
export const hset: Command = ({ keyspace }, [key = "", ...pairs]) => {
  if (pairs.length === 0 || pairs.length % 2 !== 0) throw wrongArity("hset");
  const hash = keyspace.hash(key) ?? new Hash();
  let added = 0;
  for (let i = 0; i < pairs.length; i += 2) {
    if (!hash.has(pairs[i]!)) added++;
    hash.set(pairs[i]!, pairs[i + 1]!);
  }
  keyspace.store(key, hash);
  return added;
};

/** HEXISTS key field -> 1 or 0 */
export const hexists: Command = ({ keyspace }, [key = "", field = ""]) => (keyspace.hash(key)?.has(field) ? 1 : 0);

/** HLEN key */
export const hlen: Command = ({ keyspace }, [key = ""]) => keyspace.hash(key)?.size ?? 0;

/** HDEL key field [field ...] -> how many were removed */
export const hdel: Command = ({ keyspace }, [key = "", ...fields]) => {
  const hash = keyspace.hash(key);
  if (!hash) return 0;
  const removed = fields.filter((field) => hash.delete(field)).length;
  keyspace.store(key, hash);
  return removed;
};

/** HGETALL key -> field, value, field, value, ... (as a script sees it: a flat array) */
export const hgetall: Command = ({ keyspace }, [key = ""]) => [...(keyspace.hash(key) ?? new Hash())].flat();
