import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Stack } from "../../dev/stack";
import { startMockLlm, type MockLlm } from "../../dev/mock-llm/server";
import { startUpstashServer, type UpstashServer } from "../../dev/upstash/server";
import { uniqueId } from "../support/context";
import { startSecondWorker } from "../support/second-worker";

const KEY = "sk-ryw";
const MOCK_KEY = "sk-ryw-mock";
const TOKEN = "ryw-upstash-token";
// Long enough that a turn sent at once to another isolate lands well inside it.
const LAG_MS = 1500;

interface Lagged {
  upstash: UpstashServer;
  mock: MockLlm;
  isolates: Stack[];
}

/** A lagged Upstash server, the mock model, and a worker on them for each entry of `wranglers` (its wrangler settings). */
async function startLagged(vars: Record<string, string>, wranglers: Array<Record<string, unknown> | undefined>): Promise<Lagged> {
  const upstash = await startUpstashServer({ token: TOKEN, replicaLagMs: LAG_MS });
  const mock = await startMockLlm({ apiKey: MOCK_KEY });
  const env = { UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: TOKEN, ...vars };
  const start = (wrangler: Record<string, unknown> | undefined) => startSecondWorker({ apiKey: KEY, modelUrl: mock.url, modelKey: MOCK_KEY, env, wrangler });
  // The first one alone: a worker that binds to its Durable Objects must find it registered.
  const [first, ...rest] = wranglers;
  const isolates = [await start(first), ...(await Promise.all(rest.map(start)))];
  return { upstash, mock, isolates };
}

async function stopLagged(lagged: Lagged | undefined): Promise<void> {
  await Promise.all(lagged?.isolates.map((isolate) => isolate.stop()) ?? []);
  await lagged?.mock.close();
  await lagged?.upstash.close();
}

/** A chat turn in session "s" unless `headers` name another. */
const turn = (worker: Stack, user: string, content: string, headers: Record<string, string> = {}, stream = false) =>
  fetch(`${worker.url}/v1/chat/completions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json", "X-User-Id": user, "X-Session-Id": "s", ...headers },
    body: JSON.stringify({ stream, messages: [{ role: "user", content }] }),
  });

/** The text of a non-streamed chat answer. */
const replyText = async (res: Response) => ((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;

/**
 * An Upstash Global database modelled (UPSTASH_DEV_REPLICA_LAG_MS) under two worker isolates, as
 * two colos would be: a user's next turn may run in the other one, whose Redis client never saw
 * the previous turn's save.
 */
describe("read-your-writes across isolates, with replica lag", () => {
  let lagged: Lagged | undefined;
  let isolateA: Stack;
  let isolateB: Stack;

  beforeAll(async () => {
    lagged = await startLagged({ SYNC_FALLBACK: "isolate" }, [undefined, undefined]);
    [isolateA, isolateB] = lagged.isolates as [Stack, Stack];
  }, 90_000);

  afterAll(() => stopLagged(lagged));

  it("sees the previous turn at once in another isolate when the client echoes X-Session-Sync", async () => {
    const user = uniqueId("ryw");
    const one = await turn(isolateA, user, "I live in Porto");
    expect(one.status).toBe(200);
    const sync = one.headers.get("X-Session-Sync");
    expect(sync).toBeTruthy();
    const started = Date.now();
    const two = await turn(isolateB, user, "Where do I live?", { "X-Session-Sync": sync! });
    expect(await replyText(two)).toContain("I can see 2 earlier messages");
    // It waited for the replica instead of answering without the first turn.
    expect(Date.now() - started).toBeLessThan(LAG_MS + 2000);
  });

  it("carries the token at the end of a stream, whose headers left before the save", async () => {
    const user = uniqueId("ryw-stream");
    const one = await turn(isolateA, user, "I live in Lisbon", {}, true);
    const sse = await one.text();
    const sync = /^: session-sync (.+)$/m.exec(sse)?.[1];
    expect(sync).toBeTruthy();
    expect(sse.indexOf(": session-sync")).toBeLessThan(sse.indexOf("data: [DONE]"));
    const two = await turn(isolateB, user, "Where do I live?", { "X-Session-Sync": sync! });
    expect(await replyText(two)).toContain("I can see 2 earlier messages");
  });

  it("misses the previous turn in another isolate with no echo and no fallback: the replica has not got it yet", async () => {
    const user = uniqueId("ryw-gap");
    expect((await turn(isolateA, user, "I live in Évora")).status).toBe(200);
    const two = await turn(isolateB, user, "Where do I live?");
    expect(await replyText(two)).toContain("I can see 0 earlier messages");
  });

  it("sees the previous turn in the same isolate with no echo: the isolate starts from its latest save", async () => {
    const user = uniqueId("ryw-same");
    expect((await turn(isolateA, user, "I live in Faro")).status).toBe(200);
    const two = await turn(isolateA, user, "Where do I live?");
    expect(await replyText(two)).toContain("I can see 2 earlier messages");
  });

  it("chains Responses across isolates by previous_response_id alone, streamed or not", async () => {
    const user = uniqueId("ryw-responses");
    const respond = (worker: Stack, body: object) =>
      fetch(`${worker.url}/v1/responses`, { method: "POST", headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json", "X-User-Id": user }, body: JSON.stringify({ model: "mock-small", ...body }) });
    const first = (await (await respond(isolateA, { input: "I live in Braga" })).json()) as { id: string };
    const second = (await (await respond(isolateB, { input: "Where do I live?", previous_response_id: first.id })).json()) as { id: string; output: Array<{ content: Array<{ text: string }> }> };
    expect(second.output[0]!.content[0]!.text).toContain("I can see 2 earlier messages");
    // Streamed, the id leaves before the save: the chained turn finds the save all the same.
    const streamed = await (await respond(isolateA, { input: "And my name is Ada", previous_response_id: second.id, stream: true })).text();
    const completed = JSON.parse(streamed.trim().split("\n").at(-1)!.slice(6)) as { response: { id: string } };
    const third = (await (await respond(isolateB, { input: "Who am I?", previous_response_id: completed.response.id })).json()) as { output: Array<{ content: Array<{ text: string }> }> };
    expect(third.output[0]!.content[0]!.text).toContain("I can see 6 earlier messages");
  });

  it("works from the openai SDK as the README shows: .withResponse(), then the header echoed", async () => {
    const user = uniqueId("ryw-sdk");
    const sdk = (worker: Stack) => new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: KEY, maxRetries: 0, defaultHeaders: { "X-User-Id": user } });
    const headers: Record<string, string> = { "X-Session-Id": "trip-planning" };
    const { response } = await sdk(isolateA)
      .chat.completions.create({ model: "mock-small", messages: [{ role: "user", content: "I'm going to Lisbon." }] }, { headers })
      .withResponse();
    const sync = response.headers.get("X-Session-Sync");
    if (sync) headers["X-Session-Sync"] = sync;
    const next = await sdk(isolateB).chat.completions.create({ model: "mock-small", messages: [{ role: "user", content: "Where was I going?" }] }, { headers });
    expect(next.choices[0]!.message.content).toContain("I can see 2 earlier messages");
  });

  it("refuses a malformed token by name", async () => {
    const res = await turn(isolateB, uniqueId("ryw-bad"), "hi", { "X-Session-Sync": "a b" });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("X-Session-Sync");
  });
});

/**
 * The default where SESSION_SYNC is bound (SYNC_FALLBACK=durable-object) across two isolates that
 * share the SessionSync objects, as every isolate of a deployed worker does: locally, one worker
 * defines them and the other binds to it through wrangler's dev registry.
 */
describe("read-your-writes across isolates for clients that echo nothing (by default, where SESSION_SYNC is bound)", () => {
  let lagged: Lagged | undefined;
  let owner: Stack;
  let other: Stack;

  beforeAll(async () => {
    const name = `concierge-ryw-${process.pid}`;
    const bindToOwner = { durable_objects: { bindings: [{ name: "SESSION_SYNC", class_name: "SessionSync", script_name: name }] }, migrations: [] };
    lagged = await startLagged({}, [{ name }, { name: `${name}-other`, ...bindToOwner }]);
    [owner, other] = lagged.isolates as [Stack, Stack];
  }, 120_000);

  afterAll(() => stopLagged(lagged));

  it("sees the previous turn at once in the other isolate, either way round, streamed or not", async () => {
    const user = uniqueId("ryw-do");
    expect(await (await turn(owner, user, "I live in Porto", {}, true)).text()).toContain("data: [DONE]");
    expect(await replyText(await turn(other, user, "Where do I live?"))).toContain("I can see 2 earlier messages");
    expect(await replyText(await turn(owner, user, "And my name?"))).toContain("I can see 4 earlier messages");
  });

  it("lets a streaming openai SDK client, which can read no sync token, see its previous turn in the other isolate", async () => {
    const user = uniqueId("ryw-do-sdk");
    const sdk = (worker: Stack) => new OpenAI({ baseURL: `${worker.url}/v1`, apiKey: KEY, maxRetries: 0, defaultHeaders: { "X-User-Id": user, "X-Session-Id": "s" } });
    const ask = async (worker: Stack, content: string) => {
      let text = "";
      for await (const chunk of await sdk(worker).chat.completions.create({ model: "mock-small", stream: true, messages: [{ role: "user", content }] })) {
        text += chunk.choices[0]?.delta.content ?? "";
      }
      return text;
    };
    await ask(owner, "I live in Porto");
    expect(await ask(other, "Where do I live?")).toContain("I can see 2 earlier messages");
    expect(await ask(owner, "And my name?")).toContain("I can see 4 earlier messages");
  });

  it("says on each turn's log line where its sync token came from, and /readyz which fallback runs", async () => {
    const user = uniqueId("ryw-do-log");
    const syncOf = async (worker: Stack, res: Response) => {
      await res.text();
      const id = res.headers.get("X-Request-Id")!;
      const line = () => worker.workerLog().split("\n").find((l) => l.includes(`"request_id":"${id}"`) && l.includes('"event":"turn"'));
      await expect.poll(line, { timeout: 5000 }).toBeDefined();
      return (JSON.parse(line()!) as { sync?: string }).sync;
    };
    const first = await turn(owner, user, "I live in Sines");
    const sync = first.headers.get("X-Session-Sync")!;
    expect(await syncOf(owner, first)).toBe("none"); // a new session: no save to wait for
    expect(await syncOf(other, await turn(other, user, "Where do I live?"))).toBe("object");
    expect(await syncOf(owner, await turn(owner, user, "And my name?", { "X-Session-Sync": sync }))).toBe("echoed");
    expect(((await (await fetch(`${other.url}/readyz`)).json()) as { sync_fallback: string }).sync_fallback).toBe("durable-object");
  });

  it("keeps each session's token to itself", async () => {
    const user = uniqueId("ryw-do-apart");
    expect((await turn(owner, user, "I live in Braga", { "X-Session-Id": "one" })).status).toBe(200);
    // A session the object knows nothing of reads as it would without the fallback: nothing to wait for.
    expect(await replyText(await turn(other, user, "Where do I live?", { "X-Session-Id": "two" }))).toContain("I can see 0 earlier messages");
  });

  it("lets the session API, a stored response and a conversation's items show a turn that ran in the other isolate", async () => {
    const user = uniqueId("ryw-do-api");
    const read = (path: string) => fetch(`${other.url}${path}`, { headers: { Authorization: `Bearer ${KEY}`, "X-User-Id": user } });
    expect((await turn(owner, user, "I live in Faro")).status).toBe(200);
    expect(((await (await read("/v1/sessions/s")).json()) as { messages: unknown[] }).messages).toHaveLength(2);

    const created = await fetch(`${owner.url}/v1/responses`, {
      method: "POST",
      headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json", "X-User-Id": user },
      body: JSON.stringify({ model: "mock-small", input: "I live in Tavira" }),
    });
    const { id, conversation } = (await created.json()) as { id: string; conversation?: { id: string } };
    const stored = await read(`/v1/responses/${id}`);
    expect(stored.status).toBe(200);
    expect(((await stored.json()) as { id: string }).id).toBe(id);
    const session = conversation?.id ?? id.split("_").slice(2).join("_");
    expect(((await (await read(`/v1/conversations/${session}/items`)).json()) as { data: unknown[] }).data).toHaveLength(2);
  });
});
