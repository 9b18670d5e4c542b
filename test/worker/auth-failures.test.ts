import { afterEach, describe, expect, it, vi } from "vitest";
import app from "../../src/index";
import type { Env } from "../../src/config";

/**
 * Requests without CF-Connecting-IP cannot reach the worker under `wrangler dev` (Miniflare fills
 * in the loopback address), so they are sent here, to the app itself, with a stand-in Upstash
 * that says every address it is asked about is over its limit of failed authentications.
 */
const UPSTASH = "https://upstash.test";
const env: Env = { PROXY_API_KEYS: "unit-failures-key", UPSTASH_REDIS_REST_URL: UPSTASH, UPSTASH_REDIS_REST_TOKEN: "t", AUTH_FAILURE_LIMIT: "1" };

let upstashCalls = 0;
function everyAddressOverItsLimit() {
  upstashCalls = 0;
  vi.stubGlobal("fetch", async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    if (!request.url.startsWith(UPSTASH)) return new Response("unexpected", { status: 599 });
    upstashCalls++;
    const commands = (await request.json()) as unknown[];
    // The sliding window's script answers [remaining, limit]; below zero is over the limit.
    return Response.json(commands.map(() => ({ result: [-1, 1] })));
  });
}
afterEach(() => vi.unstubAllGlobals());

const call = (headers: Record<string, string>) => app.fetch(new Request("http://proxy.test/v1/models", { headers }), env);

describe("failed authentication without CF-Connecting-IP", () => {
  it("is not counted against a bucket shared by every such request: a plain 401, no Redis call", async () => {
    everyAddressOverItsLimit();
    for (let i = 0; i < 3; i++) expect((await call({ Authorization: `Bearer wrong-${i}` })).status).toBe(401);
    expect(upstashCalls).toBe(0);
  });

  it("while the same failure from an address is counted there (and here, refused)", async () => {
    everyAddressOverItsLimit();
    const res = await call({ Authorization: "Bearer wrong", "CF-Connecting-IP": "198.51.100.201" });
    expect(res.status).toBe(429);
    expect(upstashCalls).toBe(1);
  });

  it("counts an IPv6 address by its /64: a new address in the same network is refused as over the limit", async () => {
    everyAddressOverItsLimit();
    expect((await call({ Authorization: "Bearer wrong", "CF-Connecting-IP": "2001:db8:aa:bb::1" })).status).toBe(429);
    // Known in the isolate to be over, by its network: refused without asking Redis again.
    expect((await call({ Authorization: "Bearer wrong", "CF-Connecting-IP": "2001:db8:aa:bb:ffff::2" })).status).toBe(429);
    expect(upstashCalls).toBe(1);
    // Another network is another bucket.
    await call({ Authorization: "Bearer wrong", "CF-Connecting-IP": "2001:db8:aa:bc::1" });
    expect(upstashCalls).toBe(2);
  });

  it("and a valid key from that address, over its limit, is still served", async () => {
    everyAddressOverItsLimit();
    const headers = { "CF-Connecting-IP": "198.51.100.202" };
    expect((await call({ ...headers, Authorization: "Bearer wrong" })).status).toBe(429);
    const res = await call({ ...headers, Authorization: "Bearer unit-failures-key" });
    // Past authentication: this pool has no model provider.
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("upstream_not_configured");
  });
});
