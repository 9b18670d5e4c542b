import { RedisReplyError, type Reply } from "../backend";
import type { MemoryContext, OwnCommand } from "./context";
import { parseIntegerNumber } from "./numbers";

// ioredis-mock takes any amount (EXPIRE k abc sets a NaN expiry), ignores NX/XX/GT/LT and rounds
// TTL up; these follow Redis.

type Unit = "seconds" | "milliseconds";

export const expire: OwnCommand = (context, args) => setExpiry(context, args, "expire", (amount, now) => now + amount * 1000);
export const pexpire: OwnCommand = (context, args) => setExpiry(context, args, "pexpire", (amount, now) => now + amount);
export const expireat: OwnCommand = (context, args) => setExpiry(context, args, "expireat", (amount) => amount * 1000);
export const pexpireat: OwnCommand = (context, args) => setExpiry(context, args, "pexpireat", (amount) => amount);

/** EXPIRE key amount [NX | XX | GT | LT], and the other three spellings. */
function setExpiry({ keyspace }: MemoryContext, [key = "", amount = "", ...options]: string[], command: string, toTime: (amount: number, now: number) => number): Reply {
  const now = Date.now();
  const at = toTime(parseIntegerNumber(amount), now);
  if (!Number.isSafeInteger(at)) throw new RedisReplyError(`ERR invalid expire time in '${command}' command`);
  const flags = new Set<string>();
  for (const option of options) {
    const flag = option.toUpperCase();
    if (!["NX", "XX", "GT", "LT"].includes(flag)) throw new RedisReplyError(`ERR Unsupported option ${option}`);
    flags.add(flag);
  }
  if (flags.has("NX") && flags.size > 1) throw new RedisReplyError("ERR NX and XX, GT or LT options at the same time are not compatible");
  if (flags.has("GT") && flags.has("LT")) throw new RedisReplyError("ERR GT and LT options at the same time are not compatible");

  if (!keyspace.exists(key)) return 0;
  const current = keyspace.expiresAt(key);
  if (flags.has("NX") && current !== undefined) return 0;
  if (flags.has("XX") && current === undefined) return 0;
  // A key without expiry counts as expiring never: GT can't beat it, LT always does.
  if (flags.has("GT") && (current === undefined || at <= current)) return 0;
  if (flags.has("LT") && current !== undefined && at >= current) return 0;

  if (at <= now) keyspace.delete(key);
  else keyspace.expireAt(key, at);
  return 1;
}

export const ttl: OwnCommand = (context, [key = ""]) => remaining(context, key, "seconds");
export const pttl: OwnCommand = (context, [key = ""]) => remaining(context, key, "milliseconds");

function remaining({ keyspace }: MemoryContext, key: string, unit: Unit): Reply {
  if (!keyspace.exists(key)) return -2;
  const at = keyspace.expiresAt(key);
  if (at === undefined) return -1;
  const milliseconds = Math.max(0, at - Date.now());
  // Redis rounds to the nearest second.
  return unit === "milliseconds" ? milliseconds : Math.floor((milliseconds + 500) / 1000);
}
