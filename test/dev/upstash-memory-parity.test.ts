import { createHash } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "../../dev/redis-server";
import { RedisReplyError, type Backend, type Reply } from "../../dev/upstash/backend";
import { createMemoryBackend } from "../../dev/upstash/memory/backend";
import { createRedisBackend } from "../../dev/upstash/redis-backend";

// The in-memory backend is only useful if it answers like Redis. These scenarios run the same
// commands on a real redis-server and in memory and expect the same replies and errors.

const ECHO_SCRIPT = "return ARGV[1]";
const ECHO_SHA = createHash("sha1").update(ECHO_SCRIPT).digest("hex");

type Step = string[] | { command: string[]; compare: "unordered" | "error-code" };

/** For replies whose order Redis does not define (KEYS, SMEMBERS, HGETALL pairs, ...). */
const unordered = (...command: string[]): Step => ({ command, compare: "unordered" });
/** For errors worded differently by Lua 5.1 and fengari's Lua 5.3: compare the code and the first words. */
const errorCode = (...command: string[]): Step => ({ command, compare: "error-code" });

const scenarios: Record<string, Step[]> = {
  "strings": [
    ["SET", "s", "héllo 世界 😀"],
    ["GET", "s"],
    ["STRLEN", "s"],
    ["APPEND", "s", "!"],
    ["GETRANGE", "s", "0", "5"],
    ["SET", "s", "v2", "NX"],
    ["SET", "s", "v2", "XX", "GET"],
    ["SET", "missing", "v", "XX"],
    ["SET", "s", "v3", "KEEPTTL"],
    ["SET", "s", "v", "NX", "XX"],
    ["SET", "s", "v", "EX", "abc"],
    ["SET", "s", "v", "EX", "0"],
    ["SET", "s", "v", "PX", "-5"],
    ["SET", "s", "v", "EX", "10", "PX", "10"],
    ["SET", "s", "v", "BOGUS"],
    ["MSET", "a", "1", "b", "2"],
    ["MGET", "a", "b", "missing", "s"],
    ["INCR", "a"],
    ["INCRBY", "a", "-10"],
    ["DECR", "a"],
    ["DECRBY", "a", "5"],
    ["INCRBY", "a", "1.5"],
    ["INCR", "s"],
    ["SET", "max", "9223372036854775807"],
    ["INCR", "max"],
    ["SET", "lead", "007"],
    ["INCR", "lead"],
    ["INCRBYFLOAT", "f", "1.25"],
    ["INCRBYFLOAT", "f", "-0.5"],
    ["INCRBYFLOAT", "f", "x"],
    ["INCRBYFLOAT", "f", "inf"],
    ["GETSET", "a", "9"],
    ["GETDEL", "a"],
    ["SETNX", "b", "x"],
    ["SETEX", "ex", "100", "v"],
    ["SETEX", "ex", "0", "v"],
    ["TTL", "ex"],
    ["EXISTS", "a", "b", "b", "missing"],
    ["DEL", "b", "missing"],
    ["TYPE", "s"],
  ],
  "expiry": [
    ["SET", "k", "v", "EX", "100"],
    ["TTL", "k"],
    ["EXPIRE", "k", "50", "GT"],
    ["EXPIRE", "k", "200", "GT"],
    ["EXPIRE", "k", "150", "LT"],
    ["TTL", "k"],
    ["EXPIRE", "k", "10", "NX"],
    ["PERSIST", "k"],
    ["EXPIRE", "k", "10", "XX"],
    ["EXPIRE", "k", "10", "GT"],
    ["EXPIRE", "k", "10", "LT"],
    ["TTL", "k"],
    ["EXPIRE", "k", "10", "NX", "XX"],
    ["EXPIRE", "k", "10", "GT", "LT"],
    ["EXPIRE", "k", "10", "SOMETIMES"],
    ["EXPIRE", "k", "ten"],
    ["EXPIRE", "missing", "10"],
    ["TTL", "missing"],
    ["PTTL", "missing"],
    ["PEXPIRE", "k", "0"],
    ["EXISTS", "k"],
    ["SET", "k", "v"],
    ["EXPIREAT", "k", "1"],
    ["GET", "k"],
  ],
  "lists": [
    ["RPUSH", "l", "a", "b", "c"],
    ["LPUSH", "l", "z", "y"],
    ["LRANGE", "l", "0", "-1"],
    ["LRANGE", "l", "-2", "-1"],
    ["LRANGE", "l", "-100", "1"],
    ["LRANGE", "l", "3", "1"],
    ["LRANGE", "l", "10", "20"],
    ["LRANGE", "l", "0", "x"],
    ["LLEN", "l"],
    ["LINDEX", "l", "-1"],
    ["LINDEX", "l", "99"],
    ["LTRIM", "l", "1", "-2"],
    ["LRANGE", "l", "0", "-1"],
    ["LPOP", "l"],
    ["RPOP", "l", "2"],
    ["LSET", "l", "0", "new"],
    ["LSET", "l", "5", "new"],
    ["LREM", "l", "0", "new"],
    ["EXISTS", "l"],
    ["RPUSH", "l", "x"],
    ["LTRIM", "l", "5", "10"],
    ["EXISTS", "l"],
    ["LLEN", "missing"],
    ["LRANGE", "missing", "0", "-1"],
    ["SET", "s", "string"],
    ["LPUSH", "s", "x"],
    ["LRANGE", "s", "0", "-1"],
    ["LLEN", "s"],
    ["RPUSH", "l2", "1"],
    ["GET", "l2"],
  ],
  "hashes": [
    ["HSET", "h", "name", "Zoë", "count", "1"],
    ["HSET", "h", "name", "Zoe"],
    ["HSET", "h", "odd"],
    ["HSET", "h", "a", "1", "b"],
    ["HGET", "h", "name"],
    ["HGET", "h", "missing"],
    ["HGET", "missing", "name"],
    unordered("HGETALL", "h"),
    ["HGETALL", "missing"],
    ["HINCRBY", "h", "count", "41"],
    ["HINCRBY", "h", "name", "1"],
    ["HINCRBY", "h", "count", "x"],
    ["HINCRBYFLOAT", "h", "f", "2.5"],
    ["HMGET", "h", "name", "missing", "count"],
    ["HEXISTS", "h", "name"],
    ["HLEN", "h"],
    ["HSETNX", "h", "name", "other"],
    ["HDEL", "h", "name", "missing", "count", "f"],
    ["EXISTS", "h"],
    ["HMSET", "h2", "a", "1"],
    ["SET", "s", "x"],
    ["HSET", "s", "a", "1"],
    ["HGETALL", "s"],
  ],
  "sorted sets": [
    ["ZADD", "z", "1", "a", "2", "b", "3", "c"],
    ["ZADD", "z", "1.5", "a"],
    ["ZADD", "z", "NX", "9", "a", "4", "d"],
    ["ZADD", "z", "XX", "CH", "10", "a", "5", "nope"],
    ["ZADD", "z", "INCR", "1", "b"],
    ["ZADD", "z", "GT", "5", "a"],
    ["ZADD", "z", "LT", "CH", "5", "a"],
    ["ZADD", "z", "NX", "GT", "5", "a"],
    ["ZADD", "z", "NX", "XX", "5", "a"],
    ["ZADD", "z", "INCR", "1", "a", "2", "b"],
    ["ZADD", "z", "abc", "a"],
    ["ZADD", "z", "1", "a", "2"],
    ["ZADD", "z", "-inf", "low", "+inf", "high", "0.5", "half"],
    ["ZRANGE", "z", "0", "-1"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZRANGE", "z", "0", "2", "REV", "WITHSCORES"],
    ["ZRANGE", "z", "(1", "+inf", "BYSCORE"],
    ["ZRANGE", "z", "+inf", "(2", "BYSCORE", "REV", "LIMIT", "1", "2", "WITHSCORES"],
    ["ZRANGE", "z", "0", "-1", "LIMIT", "0", "1"],
    ["ZRANGE", "z", "0", "-1", "BYLEX", "WITHSCORES"],
    ["ZRANGE", "z", "x", "1"],
    ["ZRANGE", "z", "0", "1", "REV", "REV"],
    ["ZREVRANGE", "z", "0", "1", "WITHSCORES"],
    ["ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES", "LIMIT", "1", "3"],
    ["ZRANGEBYSCORE", "z", "x", "1"],
    ["ZREVRANGEBYSCORE", "z", "5", "(2"],
    ["ZSCORE", "z", "a"],
    ["ZSCORE", "z", "low"],
    ["ZSCORE", "z", "missing"],
    ["ZMSCORE", "z", "a", "missing", "high"],
    ["ZINCRBY", "z", "2.5", "half"],
    ["ZRANK", "z", "a"],
    ["ZREVRANK", "z", "a"],
    ["ZRANK", "z", "missing"],
    ["ZCOUNT", "z", "-inf", "+inf"],
    ["ZCOUNT", "z", "(3", "5"],
    ["ZCARD", "z"],
    ["ZREM", "z", "a", "missing"],
    ["ZREMRANGEBYSCORE", "z", "-inf", "(3"],
    ["ZREMRANGEBYRANK", "z", "-1", "-1"],
    ["ZRANGE", "z", "0", "-1", "WITHSCORES"],
    ["ZPOPMIN", "z"],
    ["ZPOPMAX", "z", "10"],
    ["EXISTS", "z"],
    ["ZADD", "lex", "0", "a", "0", "b", "0", "c", "0", "d"],
    ["ZRANGE", "lex", "[b", "(d", "BYLEX"],
    ["ZRANGE", "lex", "+", "-", "BYLEX", "REV", "LIMIT", "1", "2"],
    ["ZRANGEBYLEX", "lex", "b", "c"],
    ["ZLEXCOUNT", "lex", "-", "+"],
    ["ZREMRANGEBYLEX", "lex", "[c", "+"],
    ["ZRANGE", "lex", "0", "-1"],
    ["ZCARD", "missing"],
    ["ZRANGE", "missing", "0", "-1"],
    ["SET", "s", "x"],
    ["ZADD", "s", "1", "a"],
    ["ZRANGE", "s", "0", "-1"],
    ["ZSCORE", "s", "a"],
  ],
  "keys": [
    ["MSET", "user:1", "a", "user:2", "b", "other", "c"],
    ["RPUSH", "user:list", "x"],
    unordered("KEYS", "user:*"),
    unordered("KEYS", "user:?"),
    ["DBSIZE"],
    ["RENAME", "other", "renamed"],
    ["EXISTS", "other", "renamed"],
    ["UNLINK", "renamed"],
    ["FLUSHDB"],
    ["DBSIZE"],
    ["SCAN", "x"],
    ["SCAN", "0", "COUNT", "0"],
  ],
  "sets": [
    ["SADD", "set", "a", "b", "a"],
    unordered("SMEMBERS", "set"),
    ["SISMEMBER", "set", "a"],
    ["SCARD", "set"],
    ["SREM", "set", "a", "b", "c"],
    ["EXISTS", "set"],
  ],
  "scripting": [
    ["EVAL", "return 1", "0"],
    ["EVAL", "return 1.9", "0"],
    ["EVAL", "return -1.9", "0"],
    ["EVAL", "return 'ünïcödé ✓'", "0"],
    ["EVAL", "return {1, 2, 'three', {4, {}}}", "0"],
    ["EVAL", "return {1, nil, 3}", "0"],
    ["EVAL", "return {1, false, 3}", "0"],
    ["EVAL", "return true", "0"],
    ["EVAL", "return false", "0"],
    ["EVAL", "return nil", "0"],
    ["EVAL", "return {ok = 'FINE'}", "0"],
    ["EVAL", "return {err = 'MYERR bad thing'}", "0"],
    ["EVAL", "return redis.error_reply('MYERR custom')", "0"],
    ["EVAL", "return redis.status_reply('DONE')", "0"],
    ["EVAL", "return KEYS[1] .. ':' .. ARGV[1] .. ':' .. #KEYS .. ':' .. #ARGV", "1", "k", "v", "w"],
    ["EVAL", "return redis.call('SET', KEYS[1], ARGV[1])", "1", "k", "v"],
    ["EVAL", "return redis.call('GET', KEYS[1])", "1", "k"],
    ["EVAL", "return redis.call('GET', 'missing')", "0"],
    ["RPUSH", "list", "a", "b"],
    ["EVAL", "return redis.call('LRANGE', 'list', 0, -1)", "0"],
    ["EVAL", "local items = redis.call('LRANGE', 'list', 0, -1) return #items", "0"],
    ["EVAL", "redis.call('HSET', 'h', 'f', '1') return redis.call('HMGET', 'h', 'f', 'missing')", "0"],
    ["EVAL", "return redis.call('HMGET', 'h', 'missing')[1] == false", "0"],
    ["EVAL", "local n = redis.call('INCRBY', KEYS[1], ARGV[1]) redis.call('PEXPIRE', KEYS[1], 60000) return n", "1", "counter", "5"],
    ["EVAL", "local r = redis.call('LPUSH', 'k', 'x')\nreturn r", "0"],
    ["EVAL", "return redis.pcall('LPUSH', 'k', 'x')", "0"],
    ["EVAL", "return redis.pcall('LPUSH', 'k', 'x')['err']", "0"],
    ["EVAL", "\n\nerror('boom')", "0"],
    errorCode("EVAL", "return +", "0"),
    ["EVAL", "return 1", "2", "a"],
    ["EVAL", "return 1", "-1"],
    ["EVAL", "return 1", "x"],
    ["EVAL", "#!lua flags=no-writes\nreturn 'shebang'", "0"],
    ["SCRIPT", "LOAD", ECHO_SCRIPT],
    ["EVALSHA", ECHO_SHA, "0", "x"],
    ["SCRIPT", "EXISTS", ECHO_SHA, "ffffffffffffffffffffffffffffffffffffffff"],
    ["EVALSHA", "ffffffffffffffffffffffffffffffffffffffff", "0"],
    ["SCRIPT", "FLUSH"],
    ["EVALSHA", ECHO_SHA, "0", "x"],
    ["SCRIPT", "NOPE"],
  ],
  "command errors": [
    ["NOPE", "a", "b"],
    ["GET"],
    ["GET", "a", "b"],
    ["SCRIPT", "LOAD"],
    ["PING"],
    ["PING", "hello"],
    ["ECHO", "ünïcödé"],
  ],
};

type Outcome = { result: unknown } | { error: string };

describe("in-memory backend parity with redis-server", () => {
  let redisServer: RedisServer;
  let real: Backend;
  let memory: Backend;

  beforeAll(async () => {
    redisServer = await startRedisServer();
    real = createRedisBackend(redisServer.url);
    memory = createMemoryBackend();
  });

  afterAll(async () => {
    await real?.close();
    await memory?.close();
    await redisServer?.stop();
  });

  beforeEach(async () => {
    await real.exec(["FLUSHDB"]);
    await memory.exec(["FLUSHDB"]);
    await real.exec(["SCRIPT", "FLUSH"]);
    await memory.exec(["SCRIPT", "FLUSH"]);
  });

  for (const [name, steps] of Object.entries(scenarios)) {
    it(`answers ${name} like Redis`, async () => {
      for (const step of steps) {
        const { command, compare } = Array.isArray(step) ? { command: step, compare: "exact" as const } : step;
        const expected = normalise(await outcome(real, command), compare);
        const actual = normalise(await outcome(memory, command), compare);
        expect(actual, JSON.stringify(command)).toEqual(expected);
      }
    });
  }

  it("runs transactions like MULTI/EXEC", async () => {
    await real.exec(["SET", "s", "x"]);
    await memory.exec(["SET", "s", "x"]);
    const commands = [["SET", "a", "1"], ["LPUSH", "s", "y"], ["INCR", "a"], ["GET", "a"]];
    expect(await memory.transaction(commands)).toEqual(text(await real.transaction(commands)));
    const aborted = [["SET", "b", "1"], ["GET"]];
    const [realAbort, memoryAbort] = await Promise.all([real.transaction(aborted).catch(messageOf), memory.transaction(aborted).catch(messageOf)]);
    expect(memoryAbort).toBe(realAbort);
    expect(memoryAbort).toMatch(/^EXECABORT .*wrong number of arguments for 'get' command/);
    expect(await memory.exec(["EXISTS", "b"])).toBe(0);
  });

  // Over HTTP each request's transaction tends to finish before the next request is even parsed;
  // called directly, all of them start in the same tick, which is where interleaving would show.
  it.each(["redis-server", "in-memory"])("keeps transactions started together whole (%s)", async (which) => {
    const backend = which === "in-memory" ? memory : real;
    const work = Array.from({ length: 50 }, (_, i) => [
      backend.transaction([
        ["RPUSH", "log", `${i}:first`],
        ["RPUSH", "log", `${i}:second`],
      ]),
      backend.exec(["RPUSH", "log", `${i}:alone`]),
    ]);
    await Promise.all(work.flat());
    const log = text(await backend.exec(["LRANGE", "log", "0", "-1"]));
    if (!Array.isArray(log)) throw new Error("LRANGE did not return a list");
    expect(log).toHaveLength(150);
    log.forEach((item, index) => {
      if (String(item).endsWith(":first")) expect(log[index + 1]).toBe(String(item).replace(":first", ":second"));
    });
  });
});

async function outcome(backend: Backend, command: string[]): Promise<Outcome> {
  try {
    return { result: text(await backend.exec(command)) };
  } catch (error) {
    if (error instanceof RedisReplyError) return { error: error.message };
    throw error;
  }
}

/** Bytes from redis-server as text, like the in-memory backend's strings. */
function text<T>(value: T): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value).toString("utf8");
  if (Array.isArray(value)) return value.map(text);
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([key, item]: [string, Reply]) => [key, text(item)]));
  return value;
}

function normalise(result: Outcome, compare: "exact" | "unordered" | "error-code"): Outcome {
  if (compare === "unordered" && "result" in result && Array.isArray(result.result)) {
    return { result: [...result.result].map(String).sort() };
  }
  if (compare === "error-code" && "error" in result) return { error: result.error.split(" ").slice(0, 4).join(" ") };
  return result;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
