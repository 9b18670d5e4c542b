import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { injectFault, requestsThrough } from "../../dev/fault-proxy";
import type { Stack } from "../../dev/stack";
import { directRedis, stack, uniqueId } from "../support/context";
import { startSecondWorker } from "../support/second-worker";

// A worker of its own, talking to Cosmos through the fault proxy with the breaker on (the shared
// worker turns it off: its tests inject Cosmos faults per user, and one test's outage would carry
// into the next). The breaker is set long, so nothing here depends on how fast a turn runs.
const KEY = "sk-profile-outage";
let worker: Stack;
const redis = directRedis();

beforeAll(async () => {
  worker = await startSecondWorker({
    apiKey: KEY,
    modelUrl: stack().upstreamUrl,
    modelKey: stack().upstreamApiKey,
    env: { COSMOS_ENDPOINT: stack().cosmosFaultProxyUrl, COSMOS_TIMEOUT_MS: "500", COSMOS_BREAKER_SECONDS: "3600" },
  });
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await redis.quit();
});

const call = (path: string, user: string, init: RequestInit = {}) =>
  fetch(`${worker.url}${path}`, { ...init, headers: { Authorization: `Bearer ${KEY}`, "X-User-Id": user, "Content-Type": "application/json", ...init.headers } });
const turn = (user: string) =>
  call("/v1/chat/completions", user, { method: "POST", headers: { "X-Session-Id": "s" }, body: JSON.stringify({ messages: [{ role: "user", content: `hello from ${user}` }] }) });
/** A user whose profile is in Cosmos but not in the Redis cache, so a turn has to read Cosmos. */
async function userWithProfile(name: string): Promise<string> {
  const user = uniqueId(name);
  expect((await call("/v1/profile", user, { method: "PUT", body: JSON.stringify({ preferences: { language: "pt" } }) })).status).toBe(200);
  await redis.del(`profile:{${user}}`);
  return user;
}

describe("while Cosmos does not answer", () => {
  it("one turn waits out COSMOS_TIMEOUT_MS; the next turns skip Cosmos until it answers a readiness probe again", async () => {
    const [first, second, third] = [await userWithProfile("outage-1"), await userWithProfile("outage-2"), await userWithProfile("outage-3")];
    const asked = async (user: string) => (await requestsThrough(stack().cosmosFaultProxyUrl, user)).length;
    const before = { second: await asked(second), third: await asked(third) };

    // Cosmos hangs for the first user's read: that turn times out, goes on without preferences and opens the breaker.
    await injectFault(stack().cosmosFaultProxyUrl, { match: first, mode: "hang", times: 1 });
    const timedOut = await turn(first);
    expect(timedOut.status).toBe(200);
    expect(timedOut.headers.get("x-memory-degraded")).toBe("profile");

    // Another user's turn does not ask Cosmos at all: it is degraded at once, and history still works.
    const skipped = await turn(second);
    expect(skipped.status).toBe(200);
    expect(skipped.headers.get("x-memory-degraded")).toBe("profile");
    expect(await asked(second)).toBe(before.second);
    expect(await redis.llen(`session:{${second}}:{s}`)).toBe(2);
    // The profile API says so too, without asking either.
    const api = await call("/v1/profile", second);
    expect(api.status).toBe(503);
    expect(((await api.json()) as { error: { code: string } }).error.code).toBe("profile_unavailable");
    expect(await asked(second)).toBe(before.second);

    // Cosmos answers readiness again (the hang was used up): turns read it again.
    const ready = await fetch(`${worker.url}/readyz`);
    expect(((await ready.json()) as { checks: { cosmos: { status: string } } }).checks.cosmos.status).toBe("ok");
    const recovered = await turn(third);
    expect(recovered.headers.get("x-memory-degraded")).toBeNull();
    expect(await asked(third)).toBeGreaterThan(before.third);
  });
});
