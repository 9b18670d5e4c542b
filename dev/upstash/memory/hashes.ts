import { RedisReplyError, type Reply } from "../backend";
import type { MemoryContext, OwnCommand } from "./context";
import { OVERFLOW, wrongArity } from "./errors";
import type { Hash } from "./keyspace";
import { fitsInt64, parseDouble, parseInteger } from "./numbers";
import { formatSum } from "./strings";

// ioredis-mock stores an odd field list with an undefined value, counts missing fields as deleted
// and increments non-numbers into NaN; these follow Redis.

/** HSET key field value [field value ...] -> fields added */
export const hset: OwnCommand = (context, args) => setFields(context, "hset", args, (added) => added);
/** HMSET key field value [field value ...] -> OK */
export const hmset: OwnCommand = (context, args) => setFields(context, "hmset", args, () => "OK");

function setFields({ keyspace }: MemoryContext, command: string, [key = "", ...pairs]: string[], reply: (added: number) => Reply): Reply {
  if (pairs.length === 0 || pairs.length % 2 !== 0) throw wrongArity(command);
  const hash = keyspace.hash(key) ?? {};
  let added = 0;
  for (let i = 0; i < pairs.length; i += 2) {
    const field = pairs[i] ?? "";
    if (!Object.hasOwn(hash, field)) added++;
    setField(hash, field, pairs[i + 1] ?? "");
  }
  keyspace.put(key, hash);
  return reply(added);
}

/** HDEL key field [field ...] -> fields removed */
export const hdel: OwnCommand = ({ keyspace }, [key = "", ...fields]) => {
  const hash = keyspace.hash(key);
  if (!hash) return 0;
  let removed = 0;
  for (const field of fields) {
    if (Object.hasOwn(hash, field)) {
      Reflect.deleteProperty(hash, field);
      removed++;
    }
  }
  keyspace.put(key, hash);
  return removed;
};

/** HINCRBY key field increment */
export const hincrby: OwnCommand = ({ keyspace }, [key = "", field = "", amount = ""]) => {
  const delta = parseInteger(amount);
  const hash = keyspace.hash(key) ?? {};
  const current = Object.hasOwn(hash, field) ? parseInteger(hash[field] ?? "", "ERR hash value is not an integer") : 0n;
  const next = current + delta;
  if (!fitsInt64(next)) throw new RedisReplyError(OVERFLOW);
  setField(hash, field, next.toString());
  keyspace.put(key, hash);
  return Number(next);
};

/** HINCRBYFLOAT key field increment */
export const hincrbyfloat: OwnCommand = ({ keyspace }, [key = "", field = "", amount = ""]) => {
  const delta = parseDouble(amount);
  const hash = keyspace.hash(key) ?? {};
  const current = Object.hasOwn(hash, field) ? parseDouble(hash[field] ?? "", "ERR hash value is not a float") : 0;
  const next = current + delta;
  if (!Number.isFinite(next)) throw new RedisReplyError("ERR increment would produce NaN or Infinity");
  const text = formatSum(next);
  setField(hash, field, text);
  keyspace.put(key, hash);
  return text;
};

// A plain assignment would treat a field named "__proto__" as the prototype.
function setField(hash: Hash, field: string, value: string): void {
  Object.defineProperty(hash, field, { value, enumerable: true, writable: true, configurable: true });
}
