import OpenAI from "openai";
import { afterAll, describe, expect, it } from "vitest";
import { injectFault, requestsThrough } from "../../dev/fault-proxy";
import type { MockFault } from "../../dev/mock-llm/server";
import { directRedis, errorOf, openaiFor, proxyFetch, stack, uniqueId, upstreamRequests } from "../support/context";
import { widgetToken } from "../support/widget-tokens";

// Idempotency-Key as draft-ietf-httpapi-idempotency-key-header has it (and Stripe answers it): a
// retry of a turn still running is told to wait (409 idempotency_key_in_use) instead of asking the
// model again; a key reused for another request is refused (422 idempotency_key_reused); a turn
// that failed before it committed can be retried at once; a session remembers the keys of every
// turn it still stores.

const redis = directRedis();
afterAll(() => redis.quit());

/**
 * The next upstream requests whose last message contains `match` fail as `fault` says; their
 * retries do not. A status fails two by default: the proxy's own retry (UPSTREAM_MAX_RETRIES=1) too.
 */
async function failUpstream(fault: MockFault): Promise<void> {
  if (fault.errorEventAfter === undefined) fault = { times: 2, ...fault };
  const res = await fetch(`${new URL(stack().upstreamUrl).origin}/__mock/faults`, { method: "POST", body: JSON.stringify(fault) });
  if (res.status !== 204) throw new Error(`the mock model refused the fault: ${res.status}`);
}

const stored = async (user: string, session: string) => (await redis.lrange(`session:{${user}}:{${session}}`, 0, -1)).map((m) => JSON.parse(m) as { role: string; content: string });

/** A client as a backend would hold one: the stack's key, acting for `user` in `session`. */
const clientFor = (user: string, session: string, maxRetries = 0) =>
  new OpenAI({ baseURL: `${stack().url}/v1`, apiKey: stack().apiKey, maxRetries, defaultHeaders: { "X-User-Id": user, "X-Session-Id": session } });

/** The SDK's error for a refused request, or the request's own result. */
async function settle<T>(work: Promise<T>): Promise<{ ok: T } | { error: InstanceType<typeof OpenAI.APIError> }> {
  try {
    return { ok: await work };
  } catch (error) {
    if (error instanceof OpenAI.APIError) return { error };
    throw error;
  }
}

describe("a retry while its turn is still running", { timeout: 60_000 }, () => {
  it("is told to wait (409, Retry-After) instead of asking the model again: 20 concurrent attempts, one generation, one stored turn", async () => {
    const [user, session, marker, key] = [uniqueId("concurrent"), uniqueId("s"), uniqueId("slow"), crypto.randomUUID()];
    const client = clientFor(user, session);
    const ask = `${marker} [mock:words=40] [mock:pace=50]`;
    const attempt = async () => {
      const { data: stream, response } = await client.chat.completions
        .create({ model: "mock-small", stream: true, messages: [{ role: "user", content: ask }] }, { headers: { "Idempotency-Key": key } })
        .withResponse();
      let text = "";
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
      return { text, replayed: response.headers.get("Idempotent-Replayed") === "true" };
    };
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => settle(attempt())));

    const answered = outcomes.flatMap((o) => ("ok" in o ? [o.ok] : []));
    const refused = outcomes.flatMap((o) => ("error" in o ? [o.error] : []));
    expect(answered.filter((a) => !a.replayed)).toHaveLength(1);
    for (const error of refused) {
      expect(error.status).toBe(409);
      expect(error.code).toBe("idempotency_key_in_use");
      expect(error.param).toBe("Idempotency-Key");
      expect(error.headers?.get("retry-after")).toBe("1");
    }
    expect(refused.length).toBeGreaterThan(0);
    const reply = answered.find((a) => !a.replayed)!.text;
    for (const replay of answered) expect(replay.text).toBe(reply);
    expect(await upstreamRequests(marker)).toHaveLength(1);
    expect((await stored(user, session)).map((m) => m.role)).toEqual(["user", "assistant"]);

    // Once it is saved, a retry is answered with it.
    const late = await attempt();
    expect(late).toEqual({ text: reply, replayed: true });
    expect(await upstreamRequests(marker)).toHaveLength(1);
  });

  it("is told to wait on the Responses API too, and then replayed", async () => {
    const [user, session, marker, key] = [uniqueId("resp-concurrent"), uniqueId("s"), uniqueId("slow"), crypto.randomUUID()];
    const client = clientFor(user, session);
    const input = `${marker} [mock:words=30] [mock:pace=50]`;
    const first = client.responses.create({ model: "mock-small", input, stream: true }, { headers: { "Idempotency-Key": key } });
    const events = await first;
    // The first attempt is streaming: the model is generating it.
    const iterator = events[Symbol.asyncIterator]();
    await iterator.next();
    const retry = await settle(client.responses.create({ model: "mock-small", input }, { headers: { "Idempotency-Key": key } }));
    expect("error" in retry && retry.error.status).toBe(409);
    expect("error" in retry && retry.error.code).toBe("idempotency_key_in_use");
    let text = "";
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) if (next.value.type === "response.output_text.delta") text += next.value.delta;

    const { data, response } = await client.responses.create({ model: "mock-small", input }, { headers: { "Idempotency-Key": key } }).withResponse();
    expect(response.headers.get("Idempotent-Replayed")).toBe("true");
    expect(data.output_text).toBe(text);
    expect(await upstreamRequests(marker)).toHaveLength(1);
    expect(await stored(user, session)).toHaveLength(2);
  });
});

describe("a key reused for another request", () => {
  it("is refused (422 idempotency_key_reused), whether the message or the model differs, and the old answer is not shown", async () => {
    const [user, session, marker, key] = [uniqueId("reused"), uniqueId("s"), uniqueId("q"), crypto.randomUUID()];
    const client = clientFor(user, session);
    const create = (content: string, model = "mock-small") => settle(client.chat.completions.create({ model, messages: [{ role: "user", content }] }, { headers: { "Idempotency-Key": key } }));
    expect(await create(`${marker} first`)).toHaveProperty("ok");

    for (const [content, model] of [[`${marker} second`, "mock-small"], [`${marker} first`, "mock-large"]] as const) {
      const reused = await create(content, model);
      expect("error" in reused && { status: reused.error.status, code: reused.error.code, param: reused.error.param }).toEqual({
        status: 422,
        code: "idempotency_key_reused",
        param: "Idempotency-Key",
      });
    }
    expect(await upstreamRequests(marker)).toHaveLength(1);
    expect(await stored(user, session)).toHaveLength(2);
    // The same request is still answered from the session.
    const again = await create(`${marker} first`);
    expect("ok" in again && again.ok.choices[0]!.message.content).toBe((await stored(user, session))[1]!.content);
  });

  it("is refused while its first request is still running, too (the claim keeps the request's fingerprint)", async () => {
    const [user, session, marker, key] = [uniqueId("reused-live"), uniqueId("s"), uniqueId("q"), crypto.randomUUID()];
    const res = (content: string) =>
      proxyFetch("/v1/responses", { method: "POST", user, headers: { "X-Session-Id": session, "Idempotency-Key": key }, body: JSON.stringify({ model: "mock-small", input: content, stream: true }) });
    const first = await res(`${marker} [mock:words=20] [mock:pace=50]`);
    const other = await res(`${marker} something else`);
    expect(other.status).toBe(422);
    expect(await errorOf(other)).toMatchObject({ code: "idempotency_key_reused" });
    expect(await first.text()).toContain("response.completed");
    expect(await upstreamRequests(marker)).toHaveLength(1);
  });
});

describe("a turn that failed before it committed", { timeout: 60_000 }, () => {
  it("can be retried at once with the same key, and is stored once (Chat Completions)", async () => {
    const [user, session, marker, key] = [uniqueId("failed"), uniqueId("s"), uniqueId("q"), crypto.randomUUID()];
    await failUpstream({ match: marker, status: 500 });
    const client = clientFor(user, session);
    const create = () => settle(client.chat.completions.create({ model: "mock-small", messages: [{ role: "user", content: marker }] }, { headers: { "Idempotency-Key": key } }));
    const failed = await create();
    expect("error" in failed && failed.error.status).toBe(502);
    const retried = await create();
    expect("ok" in retried && retried.ok.choices[0]!.message.content).toContain(marker);
    expect(await upstreamRequests(marker)).toHaveLength(3); // the failed attempt and the proxy's retry of it, then the retry
    expect(await stored(user, session)).toHaveLength(2);
    // The failure cost one request of its own (the claim let go), never more.
    expect(await requestsThrough(stack().faultProxyUrl, user)).toEqual(["/pipeline", "/", "/pipeline", "/multi-exec"]);
  });

  it("can be retried at once after its stream failed midway (Responses), through the SDK's own retries", async () => {
    const [user, session, marker, key] = [uniqueId("failed-stream"), uniqueId("s"), uniqueId("q"), crypto.randomUUID()];
    await failUpstream({ match: marker, errorEventAfter: 3 });
    const input = `${marker} [mock:words=10]`;
    const client = clientFor(user, session, 2);
    const failed = await client.responses.create({ model: "mock-small", input, stream: true }, { headers: { "Idempotency-Key": key } });
    const types: string[] = [];
    for await (const event of failed) types.push(event.type);
    expect(types.at(-1)).toBe("response.failed");
    // Its claim is let go as the failure is sent; should the retry get there first, the SDK
    // retries the 409 after its Retry-After.
    const retried = await client.responses.create({ model: "mock-small", input }, { headers: { "Idempotency-Key": key } });
    expect(retried.output_text).toContain("word10");
    expect(await upstreamRequests(marker)).toHaveLength(2);
    expect(await stored(user, session)).toHaveLength(2);
  });

  it("whose claim was never let go (its worker died) is retried once the claim expires, and the claim lives no longer than a turn can", async () => {
    const [user, session, marker, key] = [uniqueId("killed"), uniqueId("s"), uniqueId("q"), crypto.randomUUID()];
    await failUpstream({ match: marker, status: 500 });
    // The release never reaches Redis, as if the worker had been killed before it could send it.
    await injectFault(stack().faultProxyUrl, { match: `session:{${user}}:{${session}}:claims`, path: "/", mode: "error", times: 1 });
    const create = () =>
      proxyFetch("/v1/chat/completions", { method: "POST", user, headers: { "X-Session-Id": session, "Idempotency-Key": key }, body: JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: marker }] }) });
    expect((await create()).status).toBe(502);
    const claims = `session:{${user}}:{${session}}:claims`;
    // UPSTREAM_TIMEOUT_MS + UPSTREAM_IDLE_TIMEOUT_MS + 2 REDIS_TIMEOUT_MS + COSMOS_TIMEOUT_MS in this stack.
    const lifetime = 2000 + 1500 + 2 * 3000 + 800;
    const left = await redis.pttl(claims);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(lifetime);

    const waiting = await create();
    expect(waiting.status).toBe(409);
    expect(waiting.headers.get("Retry-After")).toBe("1");
    await expect.poll(async () => (await create()).status, { timeout: lifetime + 5000, interval: 1000 }).toBe(200);
    expect(await upstreamRequests(marker)).toHaveLength(3);
    expect(await stored(user, session)).toHaveLength(2);
  });
});

describe("a session's memory of its keys", { timeout: 120_000 }, () => {
  it("replays every turn it still stores, and forgets the oldest keys one at a time past that", async () => {
    const [user, session, marker] = [uniqueId("many"), uniqueId("s"), uniqueId("t")];
    // The SDK's own retries ride out the stack's rate limit (40 turns per 2 s).
    const client = clientFor(user, session, 8);
    const turn = (n: number) =>
      client.chat.completions.create({ model: "mock-small", messages: [{ role: "user", content: `${marker} turn ${n}` }] }, { headers: { "Idempotency-Key": `${marker}-${n}` } }).withResponse();
    for (let n = 1; n <= 66; n++) await turn(n);
    expect(await stored(user, session)).toHaveLength(132);

    // Before, the 65th key wiped the first 64: a late retry of turn 64 was stored twice.
    for (const n of [1, 64, 66]) {
      const { data, response } = await turn(n);
      expect(response.headers.get("Idempotent-Replayed"), `turn ${n}`).toBe("true");
      expect(data.choices[0]!.message.content).toContain(`turn ${n}`);
    }
    expect(await stored(user, session)).toHaveLength(132);
    expect(await upstreamRequests(marker)).toHaveLength(66);

    // HISTORY_MAX_STORED is 200 here: the session remembers 101 keys (a turn stores two messages
    // or more). Past them the oldest go, each with the turn after which it was forgotten.
    for (let n = 67; n <= 103; n++) await turn(n);
    const keys = `session:{${user}}:{${session}}:turn-order`;
    expect(await redis.llen(keys)).toBe(101);
    expect((await redis.lrange(keys, 0, 0))[0]).toBe(`${marker}-3`);
    const { response: oldest } = await turn(3);
    expect(oldest.headers.get("Idempotent-Replayed")).toBe("true");
    const { response: forgotten } = await turn(2);
    expect(forgotten.headers.get("Idempotent-Replayed")).toBeNull();
    // Every key goes with the session: its TTL is the session's.
    expect(Math.abs((await redis.ttl(keys)) - (await redis.ttl(`session:{${user}}:{${session}}`)))).toBeLessThanOrEqual(1);
  });

  it("goes with the session when it is deleted, and with the user when they are erased", async () => {
    const [user, marker] = [uniqueId("keys-gone"), uniqueId("q")];
    const turn = (session: string, content: string) =>
      proxyFetch("/v1/chat/completions", {
        method: "POST",
        user,
        headers: { "X-Session-Id": session, "Idempotency-Key": crypto.randomUUID() },
        body: JSON.stringify({ model: "mock-small", messages: [{ role: "user", content }] }),
      });
    for (const session of ["a", "b"]) expect((await turn(session, `${marker} ${session}`)).status).toBe(200);
    // And a claim left behind in "b" (its turn failed, and could not let go of it).
    await failUpstream({ match: `${marker} dead`, status: 500 });
    await injectFault(stack().faultProxyUrl, { match: `session:{${user}}:{b}:claims`, path: "/", mode: "error", times: 1 });
    expect((await turn("b", `${marker} dead`)).status).toBe(502);
    expect(await redis.exists(`session:{${user}}:{a}:turn-order`, `session:{${user}}:{a}:turns`, `session:{${user}}:{b}:claims`)).toBe(3);

    expect((await proxyFetch("/v1/sessions/a", { method: "DELETE", user })).status).toBe(200);
    expect(await redis.keys(`session:{${user}}:{a}*`)).toEqual([]);
    expect((await proxyFetch("/v1/profile", { method: "DELETE", user })).status).toBe(200);
    expect(await redis.keys(`session:{${user}}:*`)).toEqual([]);
  });
});

describe("a widget's retry", { timeout: 60_000 }, () => {
  /** A widget's chat turn, as widget.js sends it: it runs in the session's Durable Object. */
  const widgetTurn = (user: string, session: string, text: string, headers: Record<string, string>) =>
    fetch(`${stack().url}/v1/chat/completions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${widgetToken(user)}`, "Content-Type": "application/json", "X-Session-Id": session, ...headers },
      body: JSON.stringify({ stream: true, messages: [{ role: "user", content: text }] }),
    });

  it("still attaches to the live reply, never a 409", async () => {
    const [user, session, marker, key] = [uniqueId("phone"), uniqueId("s"), uniqueId("live"), crypto.randomUUID()];
    const ask = `${marker} [mock:words=30] [mock:pace=40]`;
    const first = await widgetTurn(user, session, ask, { "Idempotency-Key": key });
    const again = await widgetTurn(user, session, ask, { "Idempotency-Key": key, "Last-Event-ID": "0" });
    expect(again.status).toBe(200);
    expect(again.headers.get("X-Reply-Resumed")).toBe("true");
    const [a, b] = await Promise.all([first.text(), again.text()]);
    expect(b).toContain("[DONE]");
    expect(a).toContain("[DONE]");
    expect(await upstreamRequests(marker)).toHaveLength(1);
  });

  it("of a reply that failed runs the turn at once, even when the failed attempt could not let go of its claim", async () => {
    const [user, session, marker, key] = [uniqueId("phone"), uniqueId("s"), uniqueId("failed"), crypto.randomUUID()];
    await failUpstream({ match: marker, errorEventAfter: 2 });
    // The object holds a retry back while its first attempt runs: the claim a retry finds there is a dead attempt's.
    await injectFault(stack().faultProxyUrl, { match: `session:{${user}}:{${session}}:claims`, path: "/", mode: "error", times: 1 });
    const ask = `${marker} [mock:words=10]`;
    expect(await (await widgetTurn(user, session, ask, { "Idempotency-Key": key })).text()).toContain("upstream_stream_error");
    const retry = await widgetTurn(user, session, ask, { "Idempotency-Key": key, "Last-Event-ID": "2" });
    expect(retry.status).toBe(200);
    expect(await retry.text()).toContain("[DONE]");
    expect(await upstreamRequests(marker)).toHaveLength(2);
    expect(await stored(user, session)).toHaveLength(2);
  });
});

describe("round trips", () => {
  it("stay one Upstash request to load a keyed turn and one to save it; a retry or a 409 costs the load alone", async () => {
    const [user, session, marker, key] = [uniqueId("keyed-trips"), uniqueId("s"), uniqueId("q"), crypto.randomUUID()];
    const client = clientFor(user, session);
    const create = (content: string) => settle(client.chat.completions.create({ model: "mock-small", messages: [{ role: "user", content }] }, { headers: { "Idempotency-Key": key } }));
    await create(marker);
    expect(await requestsThrough(stack().faultProxyUrl, user)).toEqual(["/pipeline", "/multi-exec"]);
    await create(marker);
    expect(await requestsThrough(stack().faultProxyUrl, user)).toEqual(["/pipeline", "/multi-exec", "/pipeline"]);

    const slow = proxyFetch("/v1/chat/completions", {
      method: "POST",
      user,
      headers: { "X-Session-Id": session, "Idempotency-Key": "slow" },
      body: JSON.stringify({ model: "mock-small", stream: true, messages: [{ role: "user", content: `${marker} [mock:words=20] [mock:pace=50]` }] }),
    });
    const streaming = await slow;
    const busy = await proxyFetch("/v1/chat/completions", {
      method: "POST",
      user,
      headers: { "X-Session-Id": session, "Idempotency-Key": "slow" },
      body: JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: `${marker} [mock:words=20] [mock:pace=50]` }] }),
    });
    expect(busy.status).toBe(409);
    await streaming.text();
    expect((await requestsThrough(stack().faultProxyUrl, user)).slice(3)).toEqual(["/pipeline", "/pipeline", "/multi-exec"]);
  });
});
