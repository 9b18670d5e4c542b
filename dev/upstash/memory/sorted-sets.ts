import { RedisReplyError } from "../backend";
import type { OwnCommand } from "./context";
import { SYNTAX_ERROR } from "./errors";
import type { ZMember } from "./keyspace";
import { formatDouble, parseDouble } from "./numbers";

// ioredis-mock's ZADD turns an invalid score into NaN, stores -inf as NaN and ignores GT/LT, and
// its replies print scores as JS does ("Infinity"). Ranges are in sorted-set-ranges.ts.

const NAN_SCORE = "ERR resulting score is not a number (NaN)";

/** ZADD key [NX | XX] [GT | LT] [CH] [INCR] score member [score member ...] */
export const zadd: OwnCommand = ({ keyspace }, [key = "", ...rest]) => {
  const flags = new Set<string>();
  let first = 0;
  while (first < rest.length && ["NX", "XX", "GT", "LT", "CH", "INCR"].includes((rest[first] ?? "").toUpperCase())) {
    flags.add((rest[first] ?? "").toUpperCase());
    first++;
  }
  const pairs = rest.slice(first);
  if (pairs.length === 0 || pairs.length % 2 !== 0) throw new RedisReplyError(SYNTAX_ERROR);
  const incr = flags.has("INCR");
  if (flags.has("NX") && flags.has("XX")) throw new RedisReplyError("ERR XX and NX options at the same time are not compatible");
  if ((flags.has("GT") || flags.has("LT")) && (flags.has("NX") || (flags.has("GT") && flags.has("LT")))) {
    throw new RedisReplyError("ERR GT, LT, and/or NX options at the same time are not compatible");
  }
  if (incr && pairs.length > 2) throw new RedisReplyError("ERR INCR option supports a single increment-element pair");
  const scores = pairs.filter((_, i) => i % 2 === 0).map((score) => parseDouble(score));

  const zset = keyspace.zset(key) ?? new Map<string, ZMember>();
  let added = 0;
  let updated = 0;
  let incremented: number | undefined;
  scores.forEach((score, i) => {
    const member = pairs[i * 2 + 1] ?? "";
    const current = zset.get(member)?.score;
    if (current === undefined) {
      if (flags.has("XX")) return;
      zset.set(member, { score, value: member });
      added++;
      incremented = score;
      return;
    }
    if (flags.has("NX")) return;
    const next = incr ? current + score : score;
    if (Number.isNaN(next)) throw new RedisReplyError(NAN_SCORE);
    if ((flags.has("GT") && next <= current) || (flags.has("LT") && next >= current)) return;
    if (next !== current) {
      zset.set(member, { score: next, value: member });
      updated++;
    }
    incremented = next;
  });
  keyspace.put(key, zset);
  if (incr) return incremented === undefined ? null : formatDouble(incremented);
  return flags.has("CH") ? added + updated : added;
};

/** ZINCRBY key increment member */
export const zincrby: OwnCommand = ({ keyspace }, [key = "", increment = "", member = ""]) => {
  const delta = parseDouble(increment);
  const zset = keyspace.zset(key) ?? new Map<string, ZMember>();
  const next = (zset.get(member)?.score ?? 0) + delta;
  if (Number.isNaN(next)) throw new RedisReplyError(NAN_SCORE);
  zset.set(member, { score: next, value: member });
  keyspace.put(key, zset);
  return formatDouble(next);
};

/** ZSCORE key member */
export const zscore: OwnCommand = ({ keyspace }, [key = "", member = ""]) => {
  const score = keyspace.zset(key)?.get(member)?.score;
  return score === undefined ? null : formatDouble(score);
};

/** ZMSCORE key member [member ...] */
export const zmscore: OwnCommand = ({ keyspace }, [key = "", ...members]) => {
  const zset = keyspace.zset(key);
  return members.map((member) => {
    const score = zset?.get(member)?.score;
    return score === undefined ? null : formatDouble(score);
  });
};
