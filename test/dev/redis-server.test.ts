import { Redis } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "../../dev/redis-server";
import { needsRedisServer, noRedisServer } from "../support/prerequisites";

describe("startRedisServer", () => {
  const started: RedisServer[] = [];
  const savedBinary = process.env.REDIS_SERVER_BIN;

  afterEach(async () => {
    if (savedBinary === undefined) delete process.env.REDIS_SERVER_BIN;
    else process.env.REDIS_SERVER_BIN = savedBinary;
    await Promise.all(started.splice(0).map((server) => server.stop()));
  });

  it.skipIf(noRedisServer)(needsRedisServer("starts throwaway servers on free loopback ports and stops them"), async () => {
    const [first, second] = await Promise.all([startRedisServer(), startRedisServer()]);
    if (!first || !second) throw new Error("expected two servers");
    started.push(first, second);
    expect(first.url).toMatch(/^redis:\/\/127\.0\.0\.1:\d+$/);
    expect(second.url).not.toBe(first.url);

    const client = new Redis(first.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => {});
    try {
      expect(await client.ping()).toBe("PONG");
      expect(await client.config("GET", "save")).toEqual(["save", ""]);
      expect(await client.config("GET", "appendonly")).toEqual(["appendonly", "no"]);
      await first.stop();
      await first.stop();
      await expect(client.ping()).rejects.toThrow();
    } finally {
      client.disconnect();
    }
  });

  it("says clearly when redis-server is not installed", async () => {
    process.env.REDIS_SERVER_BIN = "/nonexistent/redis-server";
    await expect(startRedisServer()).rejects.toThrow(/\/nonexistent\/redis-server was not found: install Redis/);
  });
});
