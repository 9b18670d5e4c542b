import type { Reply } from "../backend";
import { formatDouble } from "./numbers";

/** An ioredis-mock return value as the reply real Redis would send. */
export function toReply(value: unknown): Reply {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  // Redis has no float replies: non-integers travel as bulk strings.
  if (typeof value === "number") return Number.isInteger(value) ? value : formatDouble(value);
  if (typeof value === "boolean") return value ? 1 : 0;
  if (typeof value === "bigint") return Number(value);
  if (Buffer.isBuffer(value)) return value.toString("utf8");
  if (Array.isArray(value)) return value.map(toReply);
  if (value instanceof Set) return [...value].map(toReply);
  if (value instanceof Map) return [...value].flatMap(([field, item]: [unknown, unknown]) => [toReply(field), toReply(item)]);
  // HGETALL comes back as an object (ioredis's reply transformer); Redis sends field, value, ...
  if (typeof value === "object") return Object.entries(value).flatMap(([field, item]: [string, unknown]) => [field, toReply(item)]);
  throw new Error(`unexpected reply from ioredis-mock: ${typeof value}`);
}
