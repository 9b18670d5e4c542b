import { createHash, randomUUID } from "node:crypto";
import { Redis } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "../../dev/redis-server";
import { startUpstashServer, type UpstashServer } from "../../dev/upstash/server";
import { needsRedisServer, noRedisServer } from "../support/prerequisites";

const TOKEN = "upstash-test-token";

interface Started {
  server: UpstashServer;
  /** Only for the redis-server backend: to check what really landed in Redis. */
  redis?: RedisServer;
}

// The embedded backend answers only the commands the worker, its rate limiter and the
// integration tests send (dev/upstash/memory/commands.ts): what these tests send to both stays
// within that set, and the rest runs on redis-server only.
const backends = [
  {
    backend: "redis-server",
    start: async (): Promise<Started> => {
      const redis = await startRedisServer();
      return { redis, server: await startUpstashServer({ token: TOKEN, redisUrl: redis.url }) };
    },
  },
  {
    backend: "in-memory",
    start: async (): Promise<Started> => ({ server: await startUpstashServer({ token: TOKEN }) }),
  },
];

function sdk(url: string, options: { token?: string; responseEncoding?: false; automaticDeserialization?: boolean } = {}): Redis {
  return new Redis({ url, token: options.token ?? TOKEN, retry: false, enableTelemetry: false, ...options });
}

for (const entry of backends) {
  const title = `Upstash REST server over ${entry.backend}`;
  const skip = entry.backend === "redis-server" && noRedisServer;
  describe.skipIf(skip)(skip ? needsRedisServer(title) : title, () => serverSuite(entry));
}

function serverSuite({ backend, start }: (typeof backends)[number]) {
  let started: Started;
  let url: string;
  /** The SDK's defaults: base64 responses, JSON deserialization. */
  let redis: Redis;
  /** Plain (not base64) responses. */
  let plain: Redis;
  /** Values exactly as stored, no JSON parsing. */
  let raw: Redis;
  const prefix = randomUUID();
  let counter = 0;
  const key = (name: string) => `${prefix}:${name}:${++counter}`;
  const unknownCommand = backend === "redis-server" ? /^ERR unknown command 'NOPE'/ : /^ERR NOPE is not supported by the embedded backend/;

  beforeAll(async () => {
    started = await start();
    url = started.server.url;
    redis = sdk(url);
    plain = sdk(url, { responseEncoding: false });
    raw = sdk(url, { automaticDeserialization: false });
  });

  afterAll(async () => {
    await started?.server.close();
    await started?.redis?.stop();
  });

  it("reports which backend it runs on", () => {
    expect(started.server.backend).toBe(backend);
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it("round-trips unicode and JSON values with and without base64 responses", async () => {
    const value = { text: "héllo 世界 😀 Ωμέγα", list: [1, "two", null, { deep: true }], quotes: `"'\\\n\t` };
    const k = key("json");
    expect(await redis.set(k, value)).toBe("OK");
    expect(await redis.get(k)).toEqual(value);
    expect(await plain.get(k)).toEqual(value);
    expect(await raw.get(k)).toBe(JSON.stringify(value));

    const text = key("text");
    await plain.set(text, "日本語のテキスト 🎌");
    expect(await redis.get(text)).toBe("日本語のテキスト 🎌");
    expect(await plain.get(text)).toBe("日本語のテキスト 🎌");
  });

  it("keeps values that look like status replies or base64 intact", async () => {
    const k = key("ok");
    await redis.set(k, "OK");
    expect(await redis.get(k)).toBe("OK");
    const list = key("ok-list");
    await redis.rpush(list, "OK", "T0s=", "");
    expect(await raw.lrange(list, 0, -1)).toEqual(["OK", "T0s=", ""]);
    expect(await plain.lrange(list, 0, -1)).toEqual(["OK", "T0s=", ""]);
  });

  it("sets expiries and reports TTLs", async () => {
    const k = key("ttl");
    await redis.set(k, "v", { ex: 100 });
    const ttl = await redis.ttl(k);
    expect(ttl).toBeGreaterThan(90);
    expect(ttl).toBeLessThanOrEqual(100);
    expect(await redis.pexpire(k, 50_000)).toBe(1);
    const pttl = await redis.pttl(k);
    expect(pttl).toBeGreaterThan(40_000);
    expect(pttl).toBeLessThanOrEqual(50_000);
    await redis.set(k, "v");
    expect(await redis.ttl(k)).toBe(-1);
    expect(await redis.ttl(key("missing"))).toBe(-2);
    expect(await redis.expire(key("missing"), 10)).toBe(0);
    expect(await redis.expire(k, -1)).toBe(1);
    expect(await redis.exists(k)).toBe(0);
  });

  it("does list operations", async () => {
    const k = key("list");
    expect(await redis.rpush(k, "z", "a", "b")).toBe(3);
    expect(await redis.rpush(k, "c", "d")).toBe(5);
    expect(await redis.lrange(k, 0, -1)).toEqual(["z", "a", "b", "c", "d"]);
    expect(await redis.ltrim(k, 1, -1)).toBe("OK");
    expect(await redis.llen(k)).toBe(4);
    expect(await redis.lrange(k, -2, -1)).toEqual(["c", "d"]);
    expect(await redis.lrange(k, -100, 100)).toEqual(["a", "b", "c", "d"]);
    expect(await redis.ltrim(k, 5, 10)).toBe("OK");
    expect(await redis.exists(k)).toBe(0);
    expect(await redis.llen(k)).toBe(0);
    await redis.rpush(k, "x", "y", "x");
    expect(await redis.lrem(k, 1, "x")).toBe(1);
    expect(await redis.lrange(k, 0, -1)).toEqual(["y", "x"]);
  });

  it("does sorted set operations", async () => {
    const k = key("zset");
    expect(await redis.zadd(k, { score: 1, member: "a" }, { score: 2.5, member: "b" }, { score: 3, member: "c" })).toBe(3);
    expect(await redis.zadd(k, { score: 4, member: "c" })).toBe(0);
    expect(await redis.zrange(k, 0, -1)).toEqual(["a", "b", "c"]);
    expect(await redis.zrange(k, 0, -1, { rev: true, withScores: true })).toEqual(["c", 4, "b", 2.5, "a", 1]);
    expect(await raw.zrange(k, 0, 1, { rev: true, withScores: true })).toEqual(["c", "4", "b", "2.5"]);
    expect(await redis.zrange(k, "(1", "+inf", { byScore: true })).toEqual(["b", "c"]);
    expect(await redis.zrange(k, "+inf", 2, { byScore: true, rev: true, withScores: true, offset: 0, count: 1 })).toEqual(["c", 4]);
    expect(await redis.zrem(k, "a", "nope")).toBe(1);
    expect(await redis.zremrangebyscore(k, 0, 3)).toBe(1);
    expect(await redis.zcard(k)).toBe(1);
    expect(await redis.zrange(k, 0, -1, { withScores: true })).toEqual(["c", 4]);
    expect(await redis.zrem(k, "c")).toBe(1);
    expect(await redis.exists(k)).toBe(0);
  });

  it("runs a pipeline in order, a failing command failing only its own entry", async () => {
    const text = key("string");
    const counter = key("counter");
    await redis.set(text, "not a list");
    const entries = await redis.pipeline().incrby(counter, 1).rpush(text, "x").incrby(counter, 1).get(counter).exec({ keepErrors: true });
    expect(entries.map((entry) => entry.result)).toEqual([1, undefined, 2, 2]);
    expect(entries[1]?.error).toMatch(/^WRONGTYPE/);
    await expect(redis.pipeline().incrby(counter, 1).rpush(text, "x").exec()).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.get(counter)).toBe(3);
  });

  it("runs multi() blocks atomically", async () => {
    const list = key("atomic");
    const blocks = Array.from({ length: 50 }, (_, i) => redis.multi().rpush(list, `${i}:first`).rpush(list, `${i}:second`).ltrim(list, -1000, -1).exec());
    const results = await Promise.all(blocks);
    expect(results.every((result) => result[2] === "OK")).toBe(true);
    const items = await redis.lrange<string>(list, 0, -1);
    expect(items).toHaveLength(100);
    const seen = new Set<number>();
    for (let i = 0; i < items.length; i += 2) {
      const [block] = String(items[i]).split(":");
      expect(items[i]).toBe(`${block}:first`);
      expect(items[i + 1]).toBe(`${block}:second`);
      seen.add(Number(block));
    }
    expect(seen.size).toBe(50);
  });

  it("reports runtime errors per command inside multi(), the others still running", async () => {
    const text = key("string");
    const after = key("after");
    await redis.set(text, "x");
    const entries = await redis.multi().rpush(text, "y").set(after, "ran").exec({ keepErrors: true });
    expect(entries[0]?.error).toMatch(/^WRONGTYPE/);
    expect(entries[1]?.result).toBe("OK");
    expect(await redis.get(after)).toBe("ran");
  });

  it("aborts a transaction Redis refuses to queue (EXECABORT), changing nothing", async () => {
    const k = key("aborted");
    await expect(redis.multi().set(k, "v").del().exec()).rejects.toThrow(/EXECABORT/);
    expect(await redis.get(k)).toBeNull();
  });

  it("runs Lua through eval and evalsha", async () => {
    const script = `redis.call("SET", KEYS[1], ARGV[1]); return {redis.call("GET", KEYS[1]), tonumber(ARGV[2]) * 2, false, 1.9}`;
    const sha = createHash("sha1").update(script).digest("hex");
    const k = key("lua");
    await expect(redis.evalsha(sha, [k], ["first", 1])).rejects.toThrow(/NOSCRIPT/);
    expect(await redis.eval(script, [k], ["again", 1])).toEqual(["again", 2, null, 1]);
    expect(await redis.evalsha(sha, [k], ["ünïcödé ✓", 21])).toEqual(["ünïcödé ✓", 42, null, 1]);
    expect(await redis.get(k)).toBe("ünïcödé ✓");
    await expect(redis.eval(`return {err = "MYERR custom failure"}`, [], [])).rejects.toThrow(/MYERR custom failure/);
    await expect(redis.eval(`return redis.call("RPUSH", KEYS[1], "x")`, [k], [])).rejects.toThrow(/WRONGTYPE/);
    expect(await redis.eval(`return redis.pcall("RPUSH", KEYS[1], "x")["err"]`, [k], [])).toMatch(/^WRONGTYPE/);
    expect(await redis.eval(`return redis.call("GET", KEYS[1]) == false`, [key("missing")], [])).toBe(1);
  });

  it("accepts Upstash's own script flag, allow-key-locking, under the client's SHA1", async () => {
    const script = "#!lua flags=allow-key-locking\nreturn redis.call('INCRBY', KEYS[1], ARGV[1])";
    const sha = createHash("sha1").update(script).digest("hex");
    const k = key("flagged");
    await expect(redis.evalsha(sha, [k], [1])).rejects.toThrow(/NOSCRIPT/);
    expect(await redis.eval(script, [k], [2])).toBe(2);
    expect(await redis.evalsha(sha, [k], [3])).toBe(5);
    const [fromTransaction] = await redis.multi().evalsha(sha, [k], [4]).exec();
    expect(fromTransaction).toBe(9);
  });

  it("refuses a wrong token", async () => {
    await expect(sdk(url, { token: "wrong" }).get(key("any"))).rejects.toThrow(/Unauthorized/);
  });

  describe("over plain HTTP", () => {
    async function request(path: string, init: RequestInit & { auth?: string | null } = {}): Promise<{ status: number; body: unknown }> {
      const headers = new Headers(init.headers);
      if (init.auth !== null) headers.set("authorization", init.auth ?? `Bearer ${TOKEN}`);
      const response = await fetch(`${url}${path}`, { ...init, headers });
      return { status: response.status, body: await response.json() };
    }
    const post = (path: string, body: unknown, headers?: HeadersInit) => request(path, { method: "POST", body: typeof body === "string" ? body : JSON.stringify(body), headers });

    it("authenticates with a bearer token or ?_token", async () => {
      expect(await post("/", ["PING"])).toEqual({ status: 200, body: { result: "PONG" } });
      expect(await request("/", { method: "POST", body: '["PING"]', auth: null })).toEqual({ status: 401, body: { error: "Unauthorized" } });
      expect(await request("/", { method: "POST", body: '["PING"]', auth: "Bearer nope" })).toEqual({ status: 401, body: { error: "Unauthorized" } });
      expect(await request(`/ping?_token=${TOKEN}`, { auth: null })).toEqual({ status: 200, body: { result: "PONG" } });
    });

    it("runs path-style commands", async () => {
      const k = key("path");
      expect(await request(`/set/${encodeURIComponent(k)}/bar%2Fbaz%20qux`)).toEqual({ status: 200, body: { result: "OK" } });
      expect(await request(`/get/${encodeURIComponent(k)}`)).toEqual({ status: 200, body: { result: "bar/baz qux" } });
      expect(await request(`/GET/${encodeURIComponent(k)}/`)).toEqual({ status: 200, body: { result: "bar/baz qux" } });
      expect(await post(`/set/${encodeURIComponent(k)}?EX=100`, "a body with spaces, / and ünïcödé")).toEqual({ status: 200, body: { result: "OK" } });
      expect(await request(`/get/${encodeURIComponent(k)}`)).toEqual({ status: 200, body: { result: "a body with spaces, / and ünïcödé" } });
      const ttl = await request(`/ttl/${encodeURIComponent(k)}`);
      expect(ttl.body).toEqual({ result: expect.any(Number) });
      expect((ttl.body as { result: number }).result).toBeGreaterThan(90);
    });

    it("base64-encodes every string but a top-level OK when asked", async () => {
      const base64 = { "upstash-encoding": "base64" };
      const k = key("b64");
      expect(await post("/", ["SET", k, "héllo"], base64)).toEqual({ status: 200, body: { result: "OK" } });
      expect(await post("/", ["GET", k], base64)).toEqual({ status: 200, body: { result: Buffer.from("héllo").toString("base64") } });
      expect(await post("/", ["GET", key("missing")], base64)).toEqual({ status: 200, body: { result: null } });
      expect(await post("/", ["PING", "OK"], base64)).toEqual({ status: 200, body: { result: "OK" } });
      const list = key("b64-list");
      expect(await post("/pipeline", [["RPUSH", list, "héllo", "OK"], ["LRANGE", list, 0, -1]], base64)).toEqual({
        status: 200,
        body: [{ result: 2 }, { result: [Buffer.from("héllo").toString("base64"), Buffer.from("OK").toString("base64")] }],
      });
    });

    it("turns JSON numbers and booleans into strings", async () => {
      const k = key("numbers");
      expect(await post("/", ["SET", k, 1.5])).toEqual({ status: 200, body: { result: "OK" } });
      expect(await post("/", ["GET", k])).toEqual({ status: 200, body: { result: "1.5" } });
      expect(await post("/", ["INCRBY", key("counter"), 2])).toEqual({ status: 200, body: { result: 2 } });
      expect(await post("/", ["SET", k, true, "EX", 100])).toEqual({ status: 200, body: { result: "OK" } });
      expect(await post("/", ["GET", k])).toEqual({ status: 200, body: { result: "true" } });
    });

    it("answers pipelines per command and aborts refused transactions", async () => {
      const k = key("pipe");
      expect(await post("/pipeline", [["SET", k, "v"], ["NOPE", "x"], ["GET", k]])).toEqual({
        status: 200,
        body: [{ result: "OK" }, { error: expect.stringMatching(unknownCommand) }, { result: "v" }],
      });
      const other = key("tx");
      const aborted = await post("/multi-exec", [["SET", other, "v"], ["NOPE"]]);
      expect(aborted).toEqual({ status: 400, body: { error: expect.stringMatching(/^EXECABORT/) } });
      expect(await post("/", ["EXISTS", other])).toEqual({ status: 200, body: { result: 0 } });
      expect(await post("/multi-exec", [["SET", other, "v"], ["GET", other]])).toEqual({ status: 200, body: [{ result: "OK" }, { result: "v" }] });
    });

    it("rejects malformed requests with 400", async () => {
      for (const body of ["not json", '{"a":1}', "[]", "[null]", '["GET", {"k": 1}]', "", '[[]]']) {
        const response = await post("/", body);
        expect(response.status, body).toBe(400);
        expect(response.body, body).toEqual({ error: expect.any(String) });
      }
      expect(await post("/pipeline", [])).toEqual({ status: 400, body: { error: expect.any(String) } });
      expect(await post("/pipeline", ["GET", "k"])).toEqual({ status: 400, body: { error: expect.any(String) } });
      expect(await request("/")).toEqual({ status: 400, body: { error: expect.any(String) } });
      expect(await post("/", ["NOPE"])).toEqual({ status: 400, body: { error: expect.stringMatching(unknownCommand) } });
      expect(await post("/", ["GET"])).toEqual({ status: 400, body: { error: "ERR wrong number of arguments for 'get' command" } });
      expect(await post("/", ["BLPOP", "k", 0])).toEqual({ status: 400, body: { error: expect.stringMatching(/^ERR 'blpop' is not supported/) } });
    });

    it("answers 404 and 405 for what it does not serve", async () => {
      expect(await request("/pipeline")).toEqual({ status: 405, body: { error: expect.any(String) } });
      expect(await request("/multi-exec", { method: "PUT", body: "[]" })).toEqual({ status: 405, body: { error: expect.any(String) } });
      expect(await request("/set/a/b", { method: "DELETE" })).toEqual({ status: 405, body: { error: expect.any(String) } });
      expect(await post("/pipeline/extra", [["PING"]])).toEqual({ status: 404, body: { error: expect.any(String) } });
    });

    it("takes bodies of a few MB and refuses more than 10 MB with 413", async () => {
      const k = key("big");
      const value = "ü".repeat(2 * 1024 * 1024);
      expect(await post("/", ["SET", k, value])).toEqual({ status: 200, body: { result: "OK" } });
      expect(await redis.get(k)).toBe(value);
      expect(await post("/", ["SET", k, "x".repeat(11 * 1024 * 1024)])).toEqual({ status: 413, body: { error: expect.any(String) } });
    });
  });

  if (backend === "redis-server") {
    it("does what the embedded backend does not: hashes, SCRIPT LOAD, error_reply", async () => {
      const k = key("hash");
      expect(await redis.hset(k, { name: "Zoë", count: 1 })).toBe(2);
      expect(await redis.hincrby(k, "count", 41)).toBe(42);
      expect(await redis.hgetall(k)).toEqual({ name: "Zoë", count: 42 });
      const script = "#!lua flags=allow-key-locking\nreturn redis.call('HMGET', KEYS[1], 'name', 'missing')";
      const sha = await redis.scriptLoad(script);
      expect(sha).toBe(createHash("sha1").update(script).digest("hex"));
      expect(await redis.scriptExists(sha, "0".repeat(40))).toEqual([1, 0]);
      expect(await redis.evalsha(sha, [k], [])).toEqual(["Zoë", null]);
      await expect(redis.eval(`return redis.error_reply("MYERR custom failure")`, [], [])).rejects.toThrow(/MYERR custom failure/);
    });

    it("writes what the SDK sends into redis-server itself", async () => {
      const direct = new IORedis(started.redis?.url ?? "", { lazyConnect: true });
      try {
        const k = key("direct");
        const value = { emoji: "🚀", text: "naïve" };
        await redis.set(k, value, { ex: 300 });
        expect(await direct.ttl(k)).toBeGreaterThan(290);
        expect((await direct.getBuffer(k))?.equals(Buffer.from(JSON.stringify(value), "utf8"))).toBe(true);
        const list = key("direct-list");
        await redis.rpush(list, "α", "β");
        expect(await direct.lrange(list, 0, -1)).toEqual(["α", "β"]);

        const execsBefore = await execCalls(direct);
        await Promise.all(Array.from({ length: 5 }, () => redis.multi().incr(key("tx")).exec()));
        expect(await execCalls(direct)).toBe(execsBefore + 5);
      } finally {
        direct.disconnect();
      }
    });
  }
}

/** How many EXEC commands redis-server has run: proof that /multi-exec really is MULTI/EXEC. */
async function execCalls(client: IORedis): Promise<number> {
  const stats = await client.info("commandstats");
  return Number(/cmdstat_exec:calls=(\d+)/.exec(stats)?.[1] ?? 0);
}

describe.skipIf(noRedisServer)(needsRedisServer("Upstash REST server when redis-server dies"), () => {
  let redisServer: RedisServer;
  let server: UpstashServer;

  beforeAll(async () => {
    redisServer = await startRedisServer();
    server = await startUpstashServer({ token: TOKEN, redisUrl: redisServer.url });
  });

  afterAll(async () => {
    await server?.close();
    await redisServer?.stop();
  });

  it("fails requests promptly instead of hanging", async () => {
    const redis = sdk(server.url);
    expect(await redis.set("k", "v")).toBe("OK");
    await redisServer.stop();
    await expect(redis.get("k")).rejects.toThrow(/unavailable/);
    const response = await fetch(server.url, { method: "POST", headers: { authorization: `Bearer ${TOKEN}` }, body: '["PING"]' });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: expect.stringMatching(/redis-server at redis:\/\/127\.0\.0\.1:\d+ is unavailable/) });
  });

  it("fails promptly when redis-server was never there", async () => {
    const orphan = await startUpstashServer({ token: TOKEN, redisUrl: "redis://127.0.0.1:1" });
    try {
      await expect(sdk(orphan.url).ping()).rejects.toThrow(/unavailable/);
    } finally {
      await orphan.close();
    }
  });
});

describe("in-memory Upstash REST servers", () => {
  it("keep their data to themselves", async () => {
    const [one, two] = await Promise.all([startUpstashServer({ token: TOKEN }), startUpstashServer({ token: TOKEN })]);
    try {
      await sdk(one.url).set("shared-name", "one");
      expect(await sdk(two.url).get("shared-name")).toBeNull();
      expect(await sdk(one.url).get("shared-name")).toBe("one");
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });
});
