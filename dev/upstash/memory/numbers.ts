import { RedisReplyError } from "../backend";
import { NOT_A_FLOAT, NOT_AN_INTEGER } from "./errors";

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A signed 64-bit integer written as Redis accepts it: no "+", spaces or leading zeros. */
export function parseInteger(text: string, message = NOT_AN_INTEGER): bigint {
  if (!/^(0|-?[1-9][0-9]{0,18})$/.test(text)) throw new RedisReplyError(message);
  const value = BigInt(text);
  if (!fitsInt64(value)) throw new RedisReplyError(message);
  return value;
}

export function fitsInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

/** A double as Redis reads one with strtod: inf and -inf included, NaN never. */
export function parseDouble(text: string, message = NOT_A_FLOAT): number {
  const infinity = /^([+-]?)inf(inity)?$/i.exec(text);
  if (infinity) return infinity[1] === "-" ? -Infinity : Infinity;
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(text)) throw new RedisReplyError(message);
  return Number(text);
}

/**
 * A double as redis-server 7.0 prints it, C's "%.17g" (0.1 is "0.10000000000000001"): scores in
 * replies, and numbers a Lua script passes to redis.call.
 */
export function formatDouble(value: number): string {
  if (value === Infinity) return "inf";
  if (value === -Infinity) return "-inf";
  if (Number.isNaN(value)) return "nan";
  if (value === 0) return Object.is(value, -0) ? "-0" : "0";
  const [digits = "", exponentText = ""] = value.toExponential(16).split("e");
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 17) {
    return `${withoutTrailingZeros(digits)}e${exponent < 0 ? "-" : "+"}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  return withoutTrailingZeros(value.toFixed(16 - exponent));
}

function withoutTrailingZeros(decimal: string): string {
  return decimal.includes(".") ? decimal.replace(/\.?0+$/, "") : decimal;
}
