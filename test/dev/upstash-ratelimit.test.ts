import { randomUUID } from "node:crypto";
import { Ratelimit } from "@upstash/ratelimit";
import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "../../dev/redis-server";
import { startUpstashServer, type UpstashServer } from "../../dev/upstash/server";
import { needsRedisServer, noRedisServer } from "../support/prerequisites";

// @upstash/ratelimit is the heaviest Lua user the worker brings: EVALSHA first, EVAL after a
// NOSCRIPT, scripts with a "#!lua" first line, HMGET of missing fields read as false.

const TOKEN = "ratelimit-test-token";

const limiters = {
  "fixed window": () => Ratelimit.fixedWindow(3, "60 s"),
  "sliding window": () => Ratelimit.slidingWindow(3, "60 s"),
  "token bucket": () => Ratelimit.tokenBucket(1, "60 s", 3),
};

// The embedded backend has what the worker's limiter, the sliding window, needs; the others
// (token bucket: hashes) run on redis-server.
const backends = [
  { backend: needsRedisServer("redis-server"), useRedisServer: true, limiters: Object.keys(limiters), skip: noRedisServer },
  { backend: "in-memory", useRedisServer: false, limiters: ["sliding window"], skip: false },
];

for (const { backend, useRedisServer, limiters: names, skip } of backends) describe.skipIf(skip)(`@upstash/ratelimit over ${backend}`, () => {
  let redisServer: RedisServer | undefined;
  let server: UpstashServer;
  let redis: Redis;

  beforeAll(async () => {
    redisServer = useRedisServer ? await startRedisServer() : undefined;
    server = await startUpstashServer({ token: TOKEN, redisUrl: redisServer?.url });
    redis = new Redis({ url: server.url, token: TOKEN, retry: false, enableTelemetry: false });
  });

  afterAll(async () => {
    await server?.close();
    await redisServer?.stop();
  });

  for (const [name, limiter] of Object.entries(limiters).filter(([name]) => names.includes(name))) {
    it(`enforces a ${name}`, async () => {
      const ratelimit = new Ratelimit({ redis, limiter: limiter(), prefix: `test:${randomUUID()}`, ephemeralCache: false, analytics: false });
      // The windows are 60 s aligned to the clock; four calls that straddle a boundary would see a
      // new window (the sliding window then weighs the old one down to 2 of 3). Start clear of one.
      const toBoundary = 60_000 - (Date.now() % 60_000);
      if (toBoundary < 3000) await new Promise((resolve) => setTimeout(resolve, toBoundary + 100));
      const results = [];
      for (let i = 0; i < 4; i++) results.push(await ratelimit.limit("caller"));
      expect(results.map((result) => result.success)).toEqual([true, true, true, false]);
      expect(results.map((result) => result.remaining)).toEqual([2, 1, 0, 0]);
      expect(results[0]?.limit).toBe(3);
      expect(results[0]?.reset).toBeGreaterThan(Date.now());
      expect((await ratelimit.limit("someone else")).success).toBe(true);
    });
  }
});
