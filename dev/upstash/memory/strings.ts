import { RedisReplyError } from "../backend";
import type { Command } from "./context";
import { SYNTAX_ERROR, unsupported } from "./errors";
import { fitsInt64, parseInteger } from "./numbers";
import { OK } from "./replies";

/** GET key */
export const get: Command = ({ keyspace }, [key = ""]) => keyspace.string(key) ?? null;

// The rest of SET's options, which the worker never sends: refused by name, not read as a syntax error.
const OTHER_SET_OPTIONS = new Set(["XX", "GET", "KEEPTTL", "PX", "EXAT", "PXAT"]);

/** SET key value [NX] [EX seconds]: the options the worker sends (a turn caches a profile only if none is cached). */
export const set: Command = ({ keyspace }, [key = "", value = "", ...options]) => {
  let onlyIfMissing = false;
  let seconds: string | undefined;
  for (let i = 0; i < options.length; i++) {
    const option = (options[i] ?? "").toUpperCase();
    if (option === "NX") onlyIfMissing = true;
    else if (option === "EX" && i + 1 < options.length) seconds = options[++i];
    else if (OTHER_SET_OPTIONS.has(option)) throw unsupported(`SET ${option}`);
    else throw new RedisReplyError(SYNTAX_ERROR);
  }
  const expiresAt = seconds === undefined ? undefined : expiryTime(seconds);
  if (onlyIfMissing && keyspace.exists(key)) return null;
  keyspace.replace(key, value, expiresAt);
  return OK;
};

/** SET's EX seconds as epoch milliseconds, with Redis's checks. */
function expiryTime(seconds: string): number {
  const amount = parseInteger(seconds);
  const at = BigInt(Date.now()) + amount * 1000n;
  if (amount <= 0n || !fitsInt64(amount * 1000n) || !fitsInt64(at)) throw new RedisReplyError("ERR invalid expire time in 'set' command");
  return Number(at);
}

/** INCRBY key increment: the rate-limit script's counter. The key keeps its expiry. */
export const incrby: Command = ({ keyspace }, [key = "", increment = ""]) => {
  const delta = parseInteger(increment);
  const current = keyspace.string(key);
  const next = (current === undefined ? 0n : parseInteger(current)) + delta;
  if (!fitsInt64(next)) throw new RedisReplyError("ERR increment or decrement would overflow");
  keyspace.store(key, next.toString());
  return Number(next);
};
