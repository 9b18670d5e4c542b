import { RedisReplyError } from "../backend";
import type { OwnCommand } from "./context";
import { SYNTAX_ERROR } from "./errors";
import { parseIntegerNumber } from "./numbers";

// ioredis-mock's SCAN has no TYPE option. The cursor here is an offset into the sorted key list:
// a full iteration sees every key that exists throughout, which is all Redis promises.

/** SCAN cursor [MATCH pattern] [COUNT count] [TYPE type] */
export const scan: OwnCommand = async ({ keyspace, mock }, [cursorText = "", ...options]) => {
  const cursor = parseIntegerNumber(cursorText, "ERR invalid cursor");
  let pattern: string | undefined;
  let count = 10;
  let type: string | undefined;
  for (let i = 0; i < options.length; i += 2) {
    const option = (options[i] ?? "").toUpperCase();
    const value = options[i + 1];
    if (value === undefined) throw new RedisReplyError(SYNTAX_ERROR);
    if (option === "MATCH") pattern = value;
    else if (option === "COUNT") {
      count = parseIntegerNumber(value);
      if (count < 1) throw new RedisReplyError(SYNTAX_ERROR);
    } else if (option === "TYPE") type = value.toLowerCase();
    else throw new RedisReplyError(SYNTAX_ERROR);
  }

  const keys = keyspace.keys().sort();
  const page = keys.slice(Math.max(cursor, 0), Math.max(cursor, 0) + count);
  const next = cursor + count >= keys.length ? 0 : cursor + count;
  // ioredis-mock's KEYS has Redis's glob matching.
  const matching = pattern === undefined ? undefined : new Set(await mock.call("keys", [pattern]).then(strings));
  const found = page.filter((key) => (!matching || matching.has(key)) && (!type || keyspace.typeOf(key) === type));
  return [String(next), found];
};

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}
