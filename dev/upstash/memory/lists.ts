import type { OwnCommand } from "./context";
import { clampRange } from "./index-range";
import { parseIntegerNumber } from "./numbers";

// ioredis-mock slices with JS semantics, so out-of-range negative indexes and LTRIM to nothing
// differ from Redis (which also deletes a list trimmed empty).

/** LRANGE key start stop */
export const lrange: OwnCommand = ({ keyspace }, [key = "", start = "", stop = ""]) => {
  const from = parseIntegerNumber(start);
  const to = parseIntegerNumber(stop);
  const list = keyspace.list(key) ?? [];
  const range = clampRange(list.length, from, to);
  return range ? list.slice(range[0], range[1] + 1) : [];
};

/** LTRIM key start stop */
export const ltrim: OwnCommand = ({ keyspace }, [key = "", start = "", stop = ""]) => {
  const from = parseIntegerNumber(start);
  const to = parseIntegerNumber(stop);
  const list = keyspace.list(key);
  if (!list) return "OK";
  const range = clampRange(list.length, from, to);
  keyspace.put(key, range ? list.slice(range[0], range[1] + 1) : []);
  return "OK";
};

/** LINDEX key index */
export const lindex: OwnCommand = ({ keyspace }, [key = "", index = ""]) => {
  const at = parseIntegerNumber(index);
  const list = keyspace.list(key) ?? [];
  return list[at < 0 ? list.length + at : at] ?? null;
};
