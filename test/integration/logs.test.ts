import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { injectFault } from "../../dev/fault-proxy";
import { hs256, now } from "../support/jwt";
import { proxyFetch, stack, uniqueId } from "../support/context";

const workerLog = () => readFileSync(stack().workerLogFile, "utf8");

describe("what the worker logs", () => {
  it("carries no message content, no secret and no stack, even when things fail", async () => {
    const user = uniqueId("logs");
    const marker = `PRIVATE-${user}-my card number is 4111`;
    const chat = (content: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) =>
      proxyFetch("/v1/chat/completions", {
        method: "POST",
        user,
        headers: { "X-Session-Id": "l", ...headers },
        body: JSON.stringify({ model: "mock-small", messages: [{ role: "user", content }], ...extra }),
      });

    expect((await chat(`${marker} plain`)).status).toBe(200);
    expect((await chat(`${marker} streamed`, {}, { stream: true })).status).toBe(200);
    expect((await chat(`[mock:status=500] ${marker}`)).status).toBe(502);
    expect((await chat(`[mock:status=400] ${marker}`)).status).toBe(400);
    await (await chat(`[mock:drop-after=2] ${marker}`, {}, { stream: true })).text();
    const forged = hs256({ sub: user, exp: now() + 60, secret_note: marker }, "wrong-secret-wrong-secret-wrong-secret");
    expect((await proxyFetch("/v1/sessions", { headers: { Authorization: `Bearer ${forged}` } })).status).toBe(401);
    await injectFault(stack().faultProxyUrl, { match: `${user}}:{broken`, mode: "error" });
    expect((await chat(`${marker} redis down`, { "X-Session-Id": "broken" })).status).toBe(503);
    await injectFault(stack().cosmosFaultProxyUrl, { match: user, mode: "error" });
    expect((await proxyFetch("/v1/profile", { user })).status).toBe(503);

    // Wait until the worker has logged this test's last failure, then read everything it said.
    await expect.poll(() => workerLog().includes("profile_unavailable"), { timeout: 5000 }).toBe(true);
    const log = workerLog();
    expect(log).toContain('"event":"turn"');
    expect(log).toContain('"event":"redis_failed"');
    // The whole phrase: a bare "4111" also turns up inside random hex request ids.
    expect(log).not.toContain("card number is 4111");
    expect(log).not.toContain(user); // not even the user id
    for (const secret of stack().secrets) expect(log).not.toContain(secret);
    expect(log).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack traces
  });

});
