import type { Command } from "./context";
import { clampRange } from "./index-range";
import { parseInteger } from "./numbers";
import { OK } from "./replies";

// A session is a list of JSON messages: a turn's save appends and trims it, a turn's load and the
// sessions API read it, and a save undone after an erasure takes its messages back out.

/** RPUSH key element [element ...] -> the new length */
export const rpush: Command = ({ keyspace }, [key = "", ...elements]) => {
  const list = keyspace.list(key) ?? [];
  list.push(...elements);
  keyspace.store(key, list);
  return list.length;
};

/** LRANGE key start stop */
export const lrange: Command = ({ keyspace }, [key = "", start = "", stop = ""]) => {
  const [from, to] = [Number(parseInteger(start)), Number(parseInteger(stop))];
  const list = keyspace.list(key) ?? [];
  const range = clampRange(list.length, from, to);
  return range ? list.slice(range[0], range[1] + 1) : [];
};

/** LTRIM key start stop: a range that is empty deletes the list. */
export const ltrim: Command = ({ keyspace }, [key = "", start = "", stop = ""]) => {
  const [from, to] = [Number(parseInteger(start)), Number(parseInteger(stop))];
  const list = keyspace.list(key);
  if (!list) return OK;
  const range = clampRange(list.length, from, to);
  keyspace.store(key, range ? list.slice(range[0], range[1] + 1) : []);
  return OK;
};

/** LREM key count element: count > 0 removes from the head, < 0 from the tail, 0 every one. */
export const lrem: Command = ({ keyspace }, [key = "", countText = "", element = ""]) => {
  const count = Number(parseInteger(countText));
  const list = keyspace.list(key);
  if (!list) return 0;
  const limit = count === 0 ? Infinity : Math.abs(count);
  const fromTail = count < 0;
  const kept: string[] = [];
  let removed = 0;
  for (const item of fromTail ? [...list].reverse() : list) {
    if (item === element && removed < limit) removed++;
    else kept.push(item);
  }
  keyspace.store(key, fromTail ? kept.reverse() : kept);
  return removed;
};

/** LLEN key */
export const llen: Command = ({ keyspace }, [key = ""]) => keyspace.list(key)?.length ?? 0;
