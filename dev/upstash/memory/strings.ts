import { RedisReplyError, type Reply } from "../backend";
import type { OwnCommand } from "./context";
import { OVERFLOW, SYNTAX_ERROR } from "./errors";
import type { Keyspace } from "./keyspace";
import { fitsInt64, parseDouble, parseInteger, parseIntegerNumber } from "./numbers";

// ioredis-mock accepts anything here: SET with a bad EX, INCR of "hello" (stores NaN), MGET of a
// list (returns the list). These follow Redis instead.

type Expiry = { unit: "EX" | "PX" | "EXAT" | "PXAT"; amount: string } | "KEEPTTL";

/** SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL] */
export const set: OwnCommand = ({ keyspace }, [key = "", value = "", ...options]) => {
  let condition: "NX" | "XX" | undefined;
  let get = false;
  let expiry: Expiry | undefined;
  for (let i = 0; i < options.length; i++) {
    const option = (options[i] ?? "").toUpperCase();
    const amount = options[i + 1];
    if ((option === "NX" || option === "XX") && (condition === undefined || condition === option)) condition = option;
    else if (option === "GET") get = true;
    else if (option === "KEEPTTL" && (expiry === undefined || expiry === "KEEPTTL")) expiry = "KEEPTTL";
    else if ((option === "EX" || option === "PX" || option === "EXAT" || option === "PXAT") && amount !== undefined && (expiry === undefined || (expiry !== "KEEPTTL" && expiry.unit === option))) {
      expiry = { unit: option, amount };
      i++;
    } else throw new RedisReplyError(SYNTAX_ERROR);
  }
  const expiresAt = expiry && expiry !== "KEEPTTL" ? expiryTime(expiry.unit, expiry.amount, "set") : undefined;

  const previous = get ? (keyspace.string(key) ?? null) : undefined;
  const exists = keyspace.exists(key);
  if ((condition === "NX" && exists) || (condition === "XX" && !exists)) return get ? (previous ?? null) : null;

  keyspace.put(key, value);
  if (expiresAt !== undefined) {
    if (expiresAt <= Date.now()) keyspace.delete(key);
    else keyspace.expireAt(key, expiresAt);
  } else if (expiry !== "KEEPTTL") keyspace.persist(key);
  return get ? (previous ?? null) : "OK";
};

/** SETEX key seconds value / PSETEX key milliseconds value */
export const setex: OwnCommand = ({ keyspace }, [key = "", seconds = "", value = ""]) => setWithExpiry(keyspace, key, value, expiryTime("EX", seconds, "setex"));
export const psetex: OwnCommand = ({ keyspace }, [key = "", milliseconds = "", value = ""]) =>
  setWithExpiry(keyspace, key, value, expiryTime("PX", milliseconds, "psetex"));

function setWithExpiry(keyspace: Keyspace, key: string, value: string, at: number): Reply {
  keyspace.put(key, value);
  keyspace.expireAt(key, at);
  return "OK";
}

/** Epoch milliseconds for an EX/PX/EXAT/PXAT amount, with Redis's checks. */
function expiryTime(unit: "EX" | "PX" | "EXAT" | "PXAT", amount: string, command: string): number {
  const value = parseIntegerNumber(amount);
  const invalid = new RedisReplyError(`ERR invalid expire time in '${command}' command`);
  if (value <= 0) throw invalid;
  const milliseconds = unit === "EX" || unit === "EXAT" ? value * 1000 : value;
  const at = unit === "EX" || unit === "PX" ? Date.now() + milliseconds : milliseconds;
  if (!Number.isSafeInteger(at)) throw invalid;
  return at;
}

/** MGET: anything that is not a string reads as nil, without an error. */
export const mget: OwnCommand = ({ keyspace }, keys) => keys.map((key) => (keyspace.typeOf(key) === "string" ? (keyspace.string(key) ?? null) : null));

export const incr: OwnCommand = ({ keyspace }, [key = ""]) => incrementBy(keyspace, key, 1n);
export const decr: OwnCommand = ({ keyspace }, [key = ""]) => incrementBy(keyspace, key, -1n);
export const incrby: OwnCommand = ({ keyspace }, [key = "", amount = ""]) => incrementBy(keyspace, key, parseInteger(amount));
export const decrby: OwnCommand = ({ keyspace }, [key = "", amount = ""]) => incrementBy(keyspace, key, -parseInteger(amount));

function incrementBy(keyspace: Keyspace, key: string, delta: bigint): Reply {
  const current = keyspace.string(key);
  const next = (current === undefined ? 0n : parseInteger(current)) + delta;
  if (!fitsInt64(next)) throw new RedisReplyError(OVERFLOW);
  keyspace.put(key, next.toString());
  return Number(next);
}

export const incrbyfloat: OwnCommand = ({ keyspace }, [key = "", amount = ""]) => {
  const current = keyspace.string(key);
  const next = (current === undefined ? 0 : parseDouble(current)) + parseDouble(amount);
  if (!Number.isFinite(next)) throw new RedisReplyError("ERR increment would produce NaN or Infinity");
  const text = formatSum(next);
  keyspace.put(key, text);
  return text;
};

/**
 * Redis adds in long double and prints at most 17 significant digits, so 0.1 + 0.2 is "0.3";
 * rounding the double sum to 15 digits gives the same text for everyday values.
 */
export function formatSum(value: number): string {
  return String(Number(value.toPrecision(15)));
}

// Redis measures strings in bytes; ioredis-mock in UTF-16 code units.

/** STRLEN key */
export const strlen: OwnCommand = ({ keyspace }, [key = ""]) => Buffer.byteLength(keyspace.string(key) ?? "", "utf8");

/** APPEND key value -> new length in bytes */
export const append: OwnCommand = ({ keyspace }, [key = "", value = ""]) => {
  const next = (keyspace.string(key) ?? "") + value;
  keyspace.put(key, next);
  return Buffer.byteLength(next, "utf8");
};

/** GETRANGE key start end, by byte offsets (a cut through a multi-byte character reads as U+FFFD). */
export const getrange: OwnCommand = ({ keyspace }, [key = "", start = "", end = ""]) => {
  const from = parseIntegerNumber(start);
  const to = parseIntegerNumber(end);
  const bytes = Buffer.from(keyspace.string(key) ?? "", "utf8");
  // Not LRANGE's arithmetic: both ends clamp to 0, so "0 -100" is the first byte.
  if (from < 0 && to < 0 && from > to) return "";
  const first = Math.max(from < 0 ? bytes.length + from : from, 0);
  const last = Math.min(Math.max(to < 0 ? bytes.length + to : to, 0), bytes.length - 1);
  return first > last || bytes.length === 0 ? "" : bytes.subarray(first, last + 1).toString("utf8");
};
