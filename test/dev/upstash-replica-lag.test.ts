import { Redis } from "@upstash/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startRedisServer, type RedisServer } from "../../dev/redis-server";
import { startUpstashServer, type UpstashServer } from "../../dev/upstash/server";
import { needsRedisServer, noRedisServer } from "../support/prerequisites";

const TOKEN = "replica-test-token";
const LAG_MS = 400;

const client = (url: string) => new Redis({ url, token: TOKEN, retry: false, enableTelemetry: false, enableAutoPipelining: false });

for (const backend of ["in-memory", "redis-server"] as const) {
  const title = `UPSTASH_DEV_REPLICA_LAG_MS over ${backend}`;
  describe.skipIf(backend === "redis-server" && noRedisServer)(backend === "redis-server" ? needsRedisServer(title) : title, () => {
    let redis: RedisServer | undefined;
    let server: UpstashServer;
    beforeAll(async () => {
      redis = backend === "redis-server" ? await startRedisServer() : undefined;
      server = await startUpstashServer({ token: TOKEN, redisUrl: redis?.url, replicaLagMs: LAG_MS });
    });
    afterAll(async () => {
      await server.close();
      await redis?.stop();
    });

    it("lets one @upstash/redis client read its own writes at once", async () => {
      const writer = client(server.url);
      await writer.set("own", "v1");
      expect(await writer.get("own")).toBe("v1");
      await writer.rpush("own-list", "a", "b");
      expect(await writer.lrange("own-list", 0, -1)).toEqual(["a", "b"]);
    });

    it("shows a fresh client (another isolate) the replica: the write only after the lag", async () => {
      await client(server.url).set("fresh", "v1");
      const started = Date.now();
      const reader = client(server.url);
      expect(await reader.get("fresh")).toBeNull();
      await expect.poll(() => client(server.url).get("fresh"), { timeout: 5000, interval: 50 }).toBe("v1");
      expect(Date.now() - started).toBeGreaterThanOrEqual(LAG_MS - 50);
    });

    it("makes a fresh client that carries the writer's sync token wait for the write", async () => {
      const writer = client(server.url);
      await writer.set("carried", "v1");
      const reader = client(server.url);
      reader.readYourWritesSyncToken = writer.readYourWritesSyncToken;
      expect(await reader.get("carried")).toBe("v1");
    });

    it("puts a sync token on every answer", async () => {
      const res = await fetch(`${server.url}/pipeline`, { method: "POST", headers: { Authorization: `Bearer ${TOKEN}` }, body: JSON.stringify([["SET", "t", "1"]]) });
      expect(Number(res.headers.get("upstash-sync-token"))).toBeGreaterThan(0);
      const read = await fetch(`${server.url}/get/t`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(read.headers.get("upstash-sync-token")).toBe(res.headers.get("upstash-sync-token"));
    });
  });
}

describe("without UPSTASH_DEV_REPLICA_LAG_MS", () => {
  it("has one copy: a fresh client reads a write at once, and answers carry no sync token", async () => {
    const server = await startUpstashServer({ token: TOKEN });
    try {
      await client(server.url).set("k", "v");
      expect(await client(server.url).get("k")).toBe("v");
      const res = await fetch(`${server.url}/get/k`, { headers: { Authorization: `Bearer ${TOKEN}` } });
      expect(res.headers.get("upstash-sync-token")).toBeNull();
    } finally {
      await server.close();
    }
  });
});
