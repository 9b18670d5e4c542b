import OpenAI from "openai";
import { afterAll, describe, expect, it } from "vitest";
import { injectFault } from "../../dev/fault-proxy";
import { directRedis, errorOf, keysOf, openaiFor, proxyFetch, stack, uniqueId, upstreamRequests } from "../support/context";

const redis = directRedis();
afterAll(() => redis.quit());

const chat = (user: string, content: string, extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
  proxyFetch("/v1/chat/completions", {
    method: "POST",
    user,
    headers: { "X-Session-Id": "x", ...headers },
    body: JSON.stringify({ model: "mock-small", messages: [{ role: "user", content }], ...extra }),
  });

describe("upstream failures", () => {
  it("an upstream 500 becomes a 502 and stores nothing, streaming or not", async () => {
    const user = uniqueId("up500");
    for (const stream of [false, true]) {
      const res = await chat(user, "[mock:status=500] hi", { stream });
      expect(res.status).toBe(502);
      expect(res.headers.get("x-request-id")).toMatch(/^req_/);
      expect(await errorOf(res)).toMatchObject({ type: "upstream_error", code: "upstream_error" });
    }
    expect(await keysOf(redis, user)).toEqual([]);
  });

  it("an upstream 429 comes back as a 429 with its Retry-After, at once, and through the SDK as RateLimitError", async () => {
    const user = uniqueId("up429");
    const res = await chat(user, "[mock:status=429] hi");
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(await errorOf(res)).toMatchObject({ type: "rate_limit_error", code: "upstream_rate_limited" });

    const client = openaiFor(user);
    await expect(client.chat.completions.create({ model: "mock-small", messages: [{ role: "user", content: "[mock:status=429] again" }] })).rejects.toBeInstanceOf(
      OpenAI.RateLimitError,
    );
    expect(await keysOf(redis, user)).toEqual([]);
  });

  it("an upstream that answers too slowly is a 504 and stores nothing", async () => {
    const user = uniqueId("slow");
    const res = await chat(user, "[mock:delay=3000] hi"); // UPSTREAM_TIMEOUT_MS is 2000 here, and the one retry times out too
    expect(res.status).toBe(504);
    expect(await errorOf(res)).toMatchObject({ code: "upstream_timeout" });
    expect(await keysOf(redis, user)).toEqual([]);
  });

  it("a non-streamed answer cut off mid-body is a 502 and stores nothing", async () => {
    // The mock really sends the status, the headers and part of the body before it cuts...
    const direct = await fetch(`${stack().upstreamUrl}/chat/completions`, {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Bearer ${stack().upstreamApiKey}` },
      body: JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: "[mock:drop-after=1] hi" }] }),
    });
    expect(direct.status).toBe(200);
    const reader = direct.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"choices":[');
    await expect(reader.read()).rejects.toThrow();

    // ...so the proxy sees a body that breaks off, not a provider that never answered.
    const user = uniqueId("cut");
    const res = await chat(user, "[mock:drop-after=1] hi");
    expect(res.status).toBe(502);
    expect(await errorOf(res)).toMatchObject({ code: "upstream_stream_broken" });
    expect(await keysOf(redis, user)).toEqual([]);
  });
});

describe("Redis failures", () => {
  it("a Redis that does not answer costs one bounded timeout and a 503, without touching the model", async () => {
    const user = uniqueId("redis-hang");
    await injectFault(stack().faultProxyUrl, { match: user, mode: "hang" });
    const marker = `never-sent-${user}`;
    const res = await chat(user, marker);
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    const error = await errorOf(res);
    expect(error).toMatchObject({ type: "service_unavailable", code: "memory_unavailable" });
    expect(error.message).not.toMatch(/ERR|upstash|command|session:/i);
    expect(await upstreamRequests(marker)).toEqual([]);
  });

  it.each(["error", "reset"] as const)("a Redis that fails (%s) is a 503 with a clear message and no internals", async (mode) => {
    const user = uniqueId(`redis-${mode}`);
    await injectFault(stack().faultProxyUrl, { match: user, mode });
    const res = await chat(user, "hi");
    expect(res.status).toBe(503);
    expect((await errorOf(res)).message).toBe("Session memory (Redis) is unavailable right now; try again shortly.");
  });

  it("a failed save is a 503 for a non-streamed turn, and an error event instead of [DONE] for a streamed one", async () => {
    const user = uniqueId("save-fails");
    await injectFault(stack().faultProxyUrl, { match: user, path: "/multi-exec", mode: "error" });
    const plain = await chat(user, "hi");
    expect(plain.status).toBe(503);

    const streamed = await chat(user, "hi", { stream: true });
    expect(streamed.status).toBe(200);
    const text = await streamed.text();
    expect(text).not.toContain("[DONE]");
    expect(text.trim().split("\n\n").at(-1)).toContain('"code":"memory_unavailable"');
    expect(await keysOf(redis, user)).toEqual([]);
  });
});

describe("a body of undeclared length over the limit", () => {
  it("is refused with 413, and the next request, anyone's, goes through", async () => {
    const { url, apiKey } = stack();
    const headers = { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" };
    const big = new TextEncoder().encode(JSON.stringify({ messages: [{ role: "user", content: "x".repeat(600_000) }] }));
    // A stream, so it goes out chunked with no Content-Length: the worker counts it as it comes.
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < big.length; i += 16_384) controller.enqueue(big.subarray(i, i + 16_384));
        controller.close();
      },
    });
    const init: RequestInit & { duplex: "half" } = { method: "POST", headers: { ...headers, "X-User-Id": uniqueId("chunked") }, body, duplex: "half" };
    const refused = await fetch(`${url}/v1/chat/completions`, init);
    expect(refused.status).toBe(413);
    expect(await errorOf(refused)).toMatchObject({ code: "request_too_large" });
    // Sent as a Request, which the tests never send twice: a request lost on a broken connection shows here.
    const next = await fetch(new Request(`${url}/v1/chat/completions`, { method: "POST", headers: { ...headers, "X-User-Id": uniqueId("after-chunked") }, body: JSON.stringify({ messages: [{ role: "user", content: "hi" }] }) }));
    expect(next.status).toBe(200);
  });
});

describe("bad input stores nothing", () => {
  it.each([
    ["malformed JSON", "{", 400],
    ["a message of the wrong shape", JSON.stringify({ messages: [{ role: "user" }] }), 400],
    ["n = 3", JSON.stringify({ messages: [{ role: "user", content: "x" }], n: 3 }), 400],
    ["a 2 MB body", JSON.stringify({ messages: [{ role: "user", content: "x".repeat(2_000_000) }] }), 413],
    ["a turn larger than the token budget", JSON.stringify({ messages: [{ role: "user", content: "word ".repeat(12_000) }] }), 400],
  ])("%s", async (_, body, status) => {
    const user = uniqueId("bad");
    const res = await proxyFetch("/v1/chat/completions", { method: "POST", user, headers: { "X-Session-Id": "x" }, body });
    expect(res.status).toBe(status);
    expect((await errorOf(res)).type).toBe("invalid_request_error");
    expect(await keysOf(redis, user)).toEqual([]);
  });
});
