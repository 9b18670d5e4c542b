import { RedisReplyError } from "../backend";
import { NOT_A_FLOAT, NOT_AN_INTEGER } from "./errors";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A signed 64-bit integer written the way Redis accepts it: no sign "+", spaces or leading zeros. */
export function parseInteger(text: string, message = NOT_AN_INTEGER): bigint {
  if (!/^(0|-?[1-9][0-9]{0,19})$/.test(text)) throw new RedisReplyError(message);
  const value = BigInt(text);
  if (!fitsInt64(value)) throw new RedisReplyError(message);
  return value;
}

/** For indexes, counts and times, where JS numbers are precise enough. */
export function parseIntegerNumber(text: string, message = NOT_AN_INTEGER): number {
  return Number(parseInteger(text, message));
}

export function fitsInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

/** A double as strtod reads it, including inf/-inf; never NaN. */
export function parseDouble(text: string, message = NOT_A_FLOAT): number {
  const infinity = /^([+-]?)inf(inity)?$/i.exec(text);
  if (infinity) return infinity[1] === "-" ? -Infinity : Infinity;
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(text)) throw new RedisReplyError(message);
  const value = Number(text);
  if (Number.isNaN(value)) throw new RedisReplyError(message);
  return value;
}

/** Scores as Redis 7.2+ prints them: shortest round-trip digits, and "inf"/"-inf". */
export function formatDouble(value: number): string {
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  if (Number.isNaN(value)) return "nan";
  return String(value);
}
