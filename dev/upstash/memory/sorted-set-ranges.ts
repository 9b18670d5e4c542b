import { RedisReplyError, type Reply } from "../backend";
import type { MemoryContext, OwnCommand } from "./context";
import { SYNTAX_ERROR } from "./errors";
import { clampRange } from "./index-range";
import type { ZMember } from "./keyspace";
import { formatDouble, parseDouble, parseIntegerNumber } from "./numbers";

// ioredis-mock parses score bounds with parseInt (so "(1.5" is "(1") and excludes members scored
// -inf/+inf from "-inf".."+inf"; these follow Redis 7's zrangeGenericCommand instead.

type RangeType = "rank" | "score" | "lex";
type Direction = "forward" | "reverse";

interface RangeOptions {
  type: RangeType;
  direction: Direction;
  withScores: boolean;
  offset: number;
  /** -1: no LIMIT. */
  limit: number;
}

interface ScoreBound {
  value: number;
  exclusive: boolean;
}

type LexBound = { value: Buffer; exclusive: boolean } | "-" | "+";

const NOT_A_FLOAT_RANGE = "ERR min or max is not a float";
const NOT_A_LEX_RANGE = "ERR min or max not valid string range item";

/** Members in Redis's order: by score, then by member bytes. */
function ordered(zset: ReadonlyMap<string, ZMember> | undefined): ZMember[] {
  if (!zset) return [];
  return [...zset.values()].sort((a, b) => a.score - b.score || Buffer.compare(Buffer.from(a.value), Buffer.from(b.value)));
}

/** The generic range command; `preset` is what the legacy spellings fix (ZREVRANGE, ZRANGEBYSCORE, ...). */
function rangeCommand(preset: Partial<Pick<RangeOptions, "type" | "direction">>): OwnCommand {
  return ({ keyspace }, [key = "", first = "", second = "", ...rest]) => {
    const options = parseOptions(rest, preset);
    const select = selector(options, first, second);
    return reply(select(ordered(keyspace.zset(key))), options.withScores);
  };
}

export const zrange = rangeCommand({});
export const zrevrange = rangeCommand({ type: "rank", direction: "reverse" });
export const zrangebyscore = rangeCommand({ type: "score", direction: "forward" });
export const zrevrangebyscore = rangeCommand({ type: "score", direction: "reverse" });
export const zrangebylex = rangeCommand({ type: "lex", direction: "forward" });
export const zrevrangebylex = rangeCommand({ type: "lex", direction: "reverse" });

function parseOptions(args: string[], preset: Partial<Pick<RangeOptions, "type" | "direction">>): RangeOptions {
  let type = preset.type;
  let direction = preset.direction;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let i = 0; i < args.length; i++) {
    const option = (args[i] ?? "").toLowerCase();
    if (option === "withscores") withScores = true;
    else if (option === "limit" && i + 2 < args.length) {
      offset = parseIntegerNumber(args[i + 1] ?? "");
      limit = parseIntegerNumber(args[i + 2] ?? "");
      i += 2;
    } else if (direction === undefined && option === "rev") direction = "reverse";
    else if (type === undefined && option === "byscore") type = "score";
    else if (type === undefined && option === "bylex") type = "lex";
    else throw new RedisReplyError(SYNTAX_ERROR);
  }
  type ??= "rank";
  direction ??= "forward";
  if (limit !== -1 && type === "rank") throw new RedisReplyError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  if (withScores && type === "lex") throw new RedisReplyError("ERR syntax error, WITHSCORES not supported in combination with BYLEX");
  return { type, direction, withScores, offset, limit };
}

/** Parses the range (before the key is read, as Redis does) into a function over the ordered members. */
function selector(options: RangeOptions, first: string, second: string): (members: ZMember[]) => ZMember[] {
  const reverse = options.direction === "reverse";
  if (options.type === "rank") {
    const start = parseIntegerNumber(first);
    const stop = parseIntegerNumber(second);
    return (members) => {
      const inOrder = reverse ? members.reverse() : members;
      const range = clampRange(inOrder.length, start, stop);
      return range ? inOrder.slice(range[0], range[1] + 1) : [];
    };
  }
  // Reverse ranges are written max first.
  const [low, high] = reverse ? [second, first] : [first, second];
  const matches = options.type === "score" ? scoreMatcher(low, high) : lexMatcher(low, high);
  return (members) => {
    const found = members.filter(matches);
    return page(reverse ? found.reverse() : found, options.offset, options.limit);
  };
}

function page(members: ZMember[], offset: number, limit: number): ZMember[] {
  if (offset < 0) return [];
  return members.slice(offset, limit < 0 ? undefined : offset + limit);
}

function reply(members: ZMember[], withScores: boolean): Reply {
  return withScores ? members.flatMap((member) => [member.value, formatDouble(member.score)]) : members.map((member) => member.value);
}

function scoreMatcher(minText: string, maxText: string): (member: ZMember) => boolean {
  const min = parseScoreBound(minText);
  const max = parseScoreBound(maxText);
  return ({ score }) => (min.exclusive ? score > min.value : score >= min.value) && (max.exclusive ? score < max.value : score <= max.value);
}

function parseScoreBound(text: string): ScoreBound {
  const exclusive = text.startsWith("(");
  const number = exclusive ? text.slice(1) : text;
  // strtod reads "" as 0, so Redis accepts "(" alone.
  return { value: number === "" ? 0 : parseDouble(number, NOT_A_FLOAT_RANGE), exclusive };
}

function lexMatcher(minText: string, maxText: string): (member: ZMember) => boolean {
  const min = parseLexBound(minText);
  const max = parseLexBound(maxText);
  return ({ value }) => {
    const bytes = Buffer.from(value);
    const aboveMin = min === "-" || (min !== "+" && (min.exclusive ? Buffer.compare(bytes, min.value) > 0 : Buffer.compare(bytes, min.value) >= 0));
    const belowMax = max === "+" || (max !== "-" && (max.exclusive ? Buffer.compare(bytes, max.value) < 0 : Buffer.compare(bytes, max.value) <= 0));
    return aboveMin && belowMax;
  };
}

function parseLexBound(text: string): LexBound {
  if (text === "-" || text === "+") return text;
  if (text.startsWith("(") || text.startsWith("[")) return { value: Buffer.from(text.slice(1)), exclusive: text.startsWith("(") };
  throw new RedisReplyError(NOT_A_LEX_RANGE);
}

/** ZCOUNT key min max */
export const zcount: OwnCommand = ({ keyspace }, [key = "", min = "", max = ""]) => {
  const matches = scoreMatcher(min, max);
  return ordered(keyspace.zset(key)).filter(matches).length;
};

/** ZLEXCOUNT key min max */
export const zlexcount: OwnCommand = ({ keyspace }, [key = "", min = "", max = ""]) => {
  const matches = lexMatcher(min, max);
  return ordered(keyspace.zset(key)).filter(matches).length;
};

/** ZREMRANGEBYSCORE key min max */
export const zremrangebyscore: OwnCommand = (context, [key = "", min = "", max = ""]) => removeWhere(context, key, scoreMatcher(min, max));
/** ZREMRANGEBYLEX key min max */
export const zremrangebylex: OwnCommand = (context, [key = "", min = "", max = ""]) => removeWhere(context, key, lexMatcher(min, max));

/** ZREMRANGEBYRANK key start stop */
export const zremrangebyrank: OwnCommand = (context, [key = "", start = "", stop = ""]) => {
  const from = parseIntegerNumber(start);
  const to = parseIntegerNumber(stop);
  const members = ordered(context.keyspace.zset(key));
  const range = clampRange(members.length, from, to);
  const doomed = new Set(range ? members.slice(range[0], range[1] + 1) : []);
  return removeWhere(context, key, (member) => doomed.has(member));
};

function removeWhere({ keyspace }: MemoryContext, key: string, doomed: (member: ZMember) => boolean): Reply {
  const zset = keyspace.zset(key);
  if (!zset) return 0;
  let removed = 0;
  for (const member of zset.values()) {
    if (doomed(member)) {
      zset.delete(member.value);
      removed++;
    }
  }
  if (removed > 0) keyspace.put(key, zset);
  return removed;
}

/** ZRANK / ZREVRANK key member [WITHSCORE] */
export const zrank: OwnCommand = (context, args) => rank(context, args, "forward");
export const zrevrank: OwnCommand = (context, args) => rank(context, args, "reverse");

function rank({ keyspace }: MemoryContext, [key = "", member = "", withScore]: string[], direction: Direction): Reply {
  if (withScore !== undefined && withScore.toLowerCase() !== "withscore") throw new RedisReplyError(SYNTAX_ERROR);
  const members = ordered(keyspace.zset(key));
  const inOrder = direction === "reverse" ? members.reverse() : members;
  const index = inOrder.findIndex((candidate) => candidate.value === member);
  if (index < 0) return null;
  return withScore === undefined ? index : [index, formatDouble(inOrder[index]?.score ?? 0)];
}

/** ZPOPMIN / ZPOPMAX key [count] */
export const zpopmin: OwnCommand = (context, args) => pop(context, args, "forward");
export const zpopmax: OwnCommand = (context, args) => pop(context, args, "reverse");

function pop({ keyspace }: MemoryContext, [key = "", countText]: string[], direction: Direction): Reply {
  const count = countText === undefined ? 1 : parseIntegerNumber(countText);
  if (count < 0) throw new RedisReplyError("ERR value is out of range, must be positive");
  const zset = keyspace.zset(key);
  if (!zset) return [];
  const members = ordered(zset);
  const popped = (direction === "reverse" ? members.reverse() : members).slice(0, count);
  for (const member of popped) zset.delete(member.value);
  keyspace.put(key, zset);
  return reply(popped, true);
}
