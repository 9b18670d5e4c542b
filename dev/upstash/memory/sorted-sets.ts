import { RedisReplyError } from "../backend";
import type { Command } from "./context";
import { SYNTAX_ERROR, unsupported } from "./errors";
import { clampRange } from "./index-range";
import type { SortedSet } from "./keyspace";
import { formatDouble, parseDouble, parseInteger } from "./numbers";

// A user's session index: member = session id, score = when it was last active (ms). A save adds
// to it and drops what has expired; the sessions API lists it newest first; erasures read it all.

const NOT_A_FLOAT_RANGE = "ERR min or max is not a float";

interface Member {
  value: string;
  score: number;
}

/** ZADD key score member [score member ...] -> members added. No flags: the worker sends none. */
export const zadd: Command = ({ keyspace }, [key = "", ...rest]) => {
  const flag = ["NX", "XX", "GT", "LT", "CH", "INCR"].find((name) => name === rest[0]?.toUpperCase());
  if (flag) throw unsupported(`ZADD ${flag}`);
  if (rest.length % 2 !== 0) throw new RedisReplyError(SYNTAX_ERROR);
  // Every score is read before anything is written, as Redis does.
  const pairs = [];
  for (let i = 0; i < rest.length; i += 2) pairs.push({ score: parseDouble(rest[i] ?? ""), value: rest[i + 1] ?? "" });
  const zset: SortedSet = keyspace.sortedSet(key) ?? new Map();
  let added = 0;
  for (const { score, value } of pairs) {
    if (!zset.has(value)) added++;
    zset.set(value, score);
  }
  keyspace.store(key, zset);
  return added;
};

/**
 * ZRANGE key start stop [BYSCORE] [REV] [LIMIT offset count] [WITHSCORES], parsed as Redis 7's
 * zrangeGenericCommand does. BYLEX is the one option the worker never sends.
 */
export const zrange: Command = ({ keyspace }, [key = "", first = "", second = "", ...options]) => {
  let byScore = false;
  let reverse = false;
  let withScores = false;
  let limit: { offset: number; count: number } | undefined;
  for (let i = 0; i < options.length; i++) {
    const option = (options[i] ?? "").toUpperCase();
    if (option === "WITHSCORES") withScores = true;
    else if (option === "LIMIT" && i + 2 < options.length) {
      limit = { offset: Number(parseInteger(options[i + 1] ?? "")), count: Number(parseInteger(options[i + 2] ?? "")) };
      i += 2;
    } else if (option === "REV" && !reverse) reverse = true;
    else if (option === "BYSCORE" && !byScore) byScore = true;
    else if (option === "BYLEX") throw unsupported("ZRANGE BYLEX");
    else throw new RedisReplyError(SYNTAX_ERROR);
  }
  if (limit && !byScore) throw new RedisReplyError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");

  let select: (members: Member[]) => Member[];
  if (byScore) {
    // Reversed, the range is given as max, then min.
    const inRange = scoreRange(reverse ? second : first, reverse ? first : second);
    select = (members) => page(members.filter(inRange), limit);
  } else {
    const [start, stop] = [Number(parseInteger(first)), Number(parseInteger(second))];
    select = (members) => {
      const range = clampRange(members.length, start, stop);
      return range ? members.slice(range[0], range[1] + 1) : [];
    };
  }
  const members = ordered(keyspace.sortedSet(key));
  const selected = select(reverse ? members.reverse() : members);
  return withScores ? selected.flatMap(({ value, score }) => [value, formatDouble(score)]) : selected.map(({ value }) => value);
};

/** ZREM key member [member ...] -> members removed */
export const zrem: Command = ({ keyspace }, [key = "", ...members]) => {
  const zset = keyspace.sortedSet(key);
  if (!zset) return 0;
  const removed = members.filter((member) => zset.delete(member)).length;
  keyspace.store(key, zset);
  return removed;
};

/** ZREMRANGEBYSCORE key min max -> members removed */
export const zremrangebyscore: Command = ({ keyspace }, [key = "", min = "", max = ""]) => {
  const inRange = scoreRange(min, max);
  const zset = keyspace.sortedSet(key);
  if (!zset) return 0;
  const doomed = ordered(zset).filter(inRange);
  for (const { value } of doomed) zset.delete(value);
  keyspace.store(key, zset);
  return doomed.length;
};

/** ZCARD key: the integration tests' check that an erasure emptied the index. */
export const zcard: Command = ({ keyspace }, [key = ""]) => keyspace.sortedSet(key)?.size ?? 0;

/** ZSCORE key member: when a session was last active (the Conversations API's created_at for a chat session). */
export const zscore: Command = ({ keyspace }, [key = "", member = ""]) => {
  const score = keyspace.sortedSet(key)?.get(member);
  return score === undefined ? null : String(score);
};

/** Members in Redis's order: by score, then by the member's bytes. */
function ordered(zset: SortedSet | undefined): Member[] {
  if (!zset) return [];
  return [...zset].map(([value, score]) => ({ value, score })).sort((a, b) => a.score - b.score || Buffer.compare(Buffer.from(a.value), Buffer.from(b.value)));
}

/** `min max` as Redis reads score bounds: "(" makes one exclusive; -inf and +inf are the ends. */
function scoreRange(minText: string, maxText: string): (member: Member) => boolean {
  const [min, max] = [scoreBound(minText), scoreBound(maxText)];
  return ({ score }) => (min.exclusive ? score > min.value : score >= min.value) && (max.exclusive ? score < max.value : score <= max.value);
}

function scoreBound(text: string): { value: number; exclusive: boolean } {
  const exclusive = text.startsWith("(");
  const number = exclusive ? text.slice(1) : text;
  // strtod reads "" as 0, so Redis takes a lone "(" as (0.
  return { value: number === "" ? 0 : parseDouble(number, NOT_A_FLOAT_RANGE), exclusive };
}

/** LIMIT offset count over a score range: a negative offset selects nothing, a negative count everything after it. */
function page(members: Member[], limit: { offset: number; count: number } | undefined): Member[] {
  if (!limit) return members;
  if (limit.offset < 0) return [];
  return members.slice(limit.offset, limit.count < 0 ? undefined : limit.offset + limit.count);
}
