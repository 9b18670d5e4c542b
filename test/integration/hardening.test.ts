import { readFileSync } from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { delayedThrough, injectFault, requestDetailsThrough } from "../../dev/fault-proxy";
import { directRedis, errorOf, keysOf, mintToken, proxyFetch, stack, uniqueId, upstreamRequests } from "../support/context";

// What an adversarial probe of `npm run dev` found, each guarded here through the running worker.
const redis = directRedis();
afterAll(() => redis.quit());

const chatBody = (content: string, extra: Record<string, unknown> = {}) => JSON.stringify({ model: "mock-small", messages: [{ role: "user", content }], ...extra });
const asWidget = (token: string, path: string, init: RequestInit = {}) =>
  proxyFetch(path, { ...init, headers: { ...Object.fromEntries(new Headers(init.headers)), Authorization: `Bearer ${token}` } });

describe("ids made only of dots", () => {
  it("never reach Cosmos: every profile call refuses them, and other users' profiles stay", async () => {
    const bystander = uniqueId("bystander");
    expect((await proxyFetch("/v1/profile", { method: "PUT", user: bystander, body: JSON.stringify({ preferences: { tone: "dry" } }) })).status).toBe(200);

    for (const id of [".", "..", "..."]) {
      for (const method of ["GET", "PUT", "PATCH", "DELETE"]) {
        const res = await proxyFetch("/v1/profile", { method, user: id, ...(method === "PUT" || method === "PATCH" ? { body: JSON.stringify({ preferences: {} }) } : {}) });
        expect(res.status, `${method} as ${id}`).toBe(400);
        expect(await errorOf(res)).toMatchObject({ code: "invalid_id", param: "X-User-Id" });
      }
    }
    const res = await proxyFetch("/v1/profile", { user: bystander });
    expect(await res.json()).toMatchObject({ preferences: { tone: "dry" } });
  });

  it("cannot be minted a token, nor name a session", async () => {
    const minted = await proxyFetch("/v1/tokens", { method: "POST", body: JSON.stringify({ user: ".." }) });
    expect(minted.status).toBe(400);
    const session = await proxyFetch("/v1/chat/completions", { method: "POST", user: uniqueId("dots"), headers: { "X-Session-Id": ".." }, body: chatBody("hi") });
    expect(await errorOf(session)).toMatchObject({ code: "invalid_id", param: "X-Session-Id" });
    const path = await proxyFetch("/v1/sessions/..", { user: uniqueId("dots") });
    expect([400, 404]).toContain(path.status); // URL parsing may resolve the segment away before routing
  });
});

describe("what a widget is shown and may send", () => {
  it("gets a provider's rejection without its text (which may quote the system prompt); a backend keeps the detail", async () => {
    const user = uniqueId("echo");
    const widget = await asWidget(await mintToken(user), "/v1/chat/completions", { method: "POST", body: chatBody("[mock:status=400] hi") });
    expect(widget.status).toBe(400);
    const shown = await errorOf(widget);
    expect(shown).toMatchObject({ type: "invalid_request_error", code: "mock_rejected", param: "messages" });
    expect(shown.message).toBe("The upstream model provider rejected the request.");

    const backend = await proxyFetch("/v1/chat/completions", { method: "POST", user, body: chatBody("[mock:status=400] hi") });
    expect((await errorOf(backend)).message).toContain("You are a helpful assistant.");
  });

  it.each([
    ["a file in the operator's provider account", { type: "file", file: { file_id: "file-abc123" } }],
    ["an image at the cloud metadata address", { type: "image_url", image_url: { url: "http://169.254.169.254/latest/meta-data/" } }],
    ["an unknown part type", { type: "mystery", mystery: {} }],
  ])("may not send %s: 400, nothing stored, the model never asked", async (_, part) => {
    const user = uniqueId("parts");
    const marker = `parts-${user}`;
    const res = await asWidget(await mintToken(user), "/v1/chat/completions", {
      method: "POST",
      headers: { "X-Session-Id": "p" },
      body: JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: [{ type: "text", text: marker }, part] }] }),
    });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "content_part_not_allowed", param: "messages[0].content[1]" });
    expect(await keysOf(redis, user)).toEqual([]);
    expect(await upstreamRequests(marker)).toEqual([]);
  });

  it("is not told the prompt's token estimate, which would measure the system prompt; a backend is", async () => {
    const user = uniqueId("estimate");
    const widget = await asWidget(await mintToken(user), "/v1/chat/completions", { method: "POST", body: chatBody("hi") });
    expect(widget.status).toBe(200);
    expect(widget.headers.get("X-Prompt-Tokens-Estimated")).toBeNull();
    expect(widget.headers.get("X-History-Kept")).toBe("0");
    const backend = await proxyFetch("/v1/chat/completions", { method: "POST", user, body: chatBody("hi") });
    expect(Number(backend.headers.get("X-Prompt-Tokens-Estimated"))).toBeGreaterThan(0);
  });
});

describe("bounded work", () => {
  it("refuses JSON nested 3,000 deep with a 400 before the model is asked", async () => {
    const user = uniqueId("deep");
    const marker = `deep-${user}`;
    const body = `{"model":"mock-small","messages":[{"role":"user","content":"${marker}"}],"metadata":${"[".repeat(3000)}${"]".repeat(3000)}}`;
    const res = await proxyFetch("/v1/chat/completions", { method: "POST", user, headers: { "X-Session-Id": "d" }, body });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ type: "invalid_request_error", code: "json_too_deep" });
    expect(await upstreamRequests(marker)).toEqual([]);
    expect(await keysOf(redis, user)).toEqual([]);
  });

  it("fails a reply whose tool calls exceed the save budget with an error event, and stores nothing", async () => {
    const user = uniqueId("storm");
    const res = await proxyFetch("/v1/chat/completions", {
      method: "POST",
      user,
      headers: { "X-Session-Id": "s" },
      // 300 calls of 3 KB: about 1 MB to store, over the 768 KB a save may take.
      body: chatBody(`[mock:tool=lookup] [mock:tool-calls=300] ${"find this ".repeat(300)}`, { stream: true }),
    });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).not.toContain("[DONE]");
    expect(text.trim().split("\n\n").at(-1)).toContain('"code":"reply_too_large"');
    expect(await keysOf(redis, user)).toEqual([]);
  });

  it("gives a stalled upstream one UPSTREAM_TIMEOUT_MS in all, not one per attempt", async () => {
    const user = uniqueId("stall");
    const marker = `stall-${user}`;
    const res = await proxyFetch("/v1/chat/completions", { method: "POST", user, body: chatBody(`[mock:delay=5000] ${marker}`) });
    expect(res.status).toBe(504);
    expect(await errorOf(res)).toMatchObject({ code: "upstream_timeout" });
    // A retry after a timeout would need a second deadline: the model is asked once.
    expect(await upstreamRequests(marker)).toHaveLength(1);
  });
});

describe("logs", () => {
  it("carry the request id on every line, so a 503's X-Request-Id leads to its cause", async () => {
    const user = uniqueId("traced");
    await injectFault(stack().faultProxyUrl, { match: user, mode: "error" });
    const res = await proxyFetch("/v1/chat/completions", { method: "POST", user, headers: { "X-Session-Id": "t" }, body: chatBody("hi") });
    expect(res.status).toBe(503);
    const id = res.headers.get("X-Request-Id")!;
    const lineOf = () =>
      readFileSync(stack().workerLogFile, "utf8")
        .split("\n")
        .find((line) => line.includes(`"request_id":"${id}"`) && line.includes('"event":"redis_failed"'));
    await expect.poll(lineOf, { timeout: 5000 }).toBeDefined();
  });
});

describe("erasure and the session index, at any size", () => {
  /** What an erasure leaves: its own time, and an empty cached profile (both expire). */
  const erasureLeftovers = (user: string) => [`erased:{${user}}`, `profile:{${user}}`];

  /** Index entries (and a LIST for every tenth) straight into Redis, as months of a busy client would leave. */
  async function seedSessions(user: string, count: number, newestAt = Date.now()) {
    const commands: Array<Array<string | number>> = [];
    const ids = Array.from({ length: count }, (_, i) => `session-${"x".repeat(100)}-${i}`);
    for (let start = 0; start < count; start += 2000) {
      const members = ids.slice(start, start + 2000).flatMap((id, i) => [newestAt - (count - start - i) * 10, id]);
      commands.push(["ZADD", `sessions:{${user}}`, ...members]);
    }
    for (let i = 0; i < count; i += 10) commands.push(["RPUSH", `session:{${user}}:{${ids[i]}}`, JSON.stringify({ role: "user", content: "old" })]);
    commands.push(["EXPIRE", `sessions:{${user}}`, 3600]);
    await redis.batch(commands);
    return ids;
  }

  it("erases 60,000 sessions in requests under 1 MB, resuming where the last DELETE stopped", async () => {
    const user = uniqueId("hoarder");
    await seedSessions(user, 60_000);
    const answers: Array<{ status: number; body: { deleted: boolean; sessions_deleted: number; sessions_remaining: number } }> = [];
    for (let attempt = 0; attempt < 20; attempt++) {
      const res = await proxyFetch("/v1/profile", { method: "DELETE", user });
      answers.push({ status: res.status, body: (await res.json()) as (typeof answers)[number]["body"] });
      if (res.status !== 202) break;
    }
    expect(answers.at(-1)).toMatchObject({ status: 200, body: { deleted: true, sessions_remaining: 0 } });
    expect(answers.slice(0, -1).every((a) => a.status === 202 && a.body.sessions_remaining > 0 && !a.body.deleted)).toBe(true);
    expect(answers.reduce((sum, a) => sum + a.body.sessions_deleted, 0)).toBe(60_000);
    expect(await keysOf(redis, user)).toEqual(erasureLeftovers(user));

    const sizes = (await requestDetailsThrough(stack().faultProxyUrl, user)).map((r) => Number(r.headers["content-length"] ?? 0));
    expect(Math.max(...sizes)).toBeLessThan(1_000_000);
  });

  it("finishes on the next DELETE after Redis failed mid-way, and says the first did not finish", async () => {
    const user = uniqueId("interrupted");
    await seedSessions(user, 1200);
    await injectFault(stack().faultProxyUrl, { match: `sessions:{${user}}`, path: "/multi-exec", mode: "error", times: 1 });
    // The first page goes through the pipeline that stamps the erasure; the first transaction fails.
    const first = await proxyFetch("/v1/profile", { method: "DELETE", user });
    expect(first.status).toBe(503);
    expect(await errorOf(first)).toMatchObject({ code: "erasure_incomplete" });
    const second = await proxyFetch("/v1/profile", { method: "DELETE", user });
    expect(second.status).toBe(200);
    expect(await second.json()).toMatchObject({ deleted: true, sessions_deleted: 1200, sessions_remaining: 0 });
    expect(await keysOf(redis, user)).toEqual(erasureLeftovers(user));
  });

  it("keeps at most MAX_SESSIONS_PER_USER sessions: a turn past the cap forgets the least recently active", async () => {
    const user = uniqueId("many");
    const ids = await seedSessions(user, 1005, Date.now() - 60_000);
    const res = await proxyFetch("/v1/chat/completions", { method: "POST", user, headers: { "X-Session-Id": "newest" }, body: chatBody("hi") });
    expect(res.status).toBe(200);
    await expect.poll(() => redis.zcard(`sessions:{${user}}`), { timeout: 5000 }).toBeLessThanOrEqual(1000);
    const kept = await redis.zrange(`sessions:{${user}}`, 0, -1);
    expect(kept.length).toBeGreaterThanOrEqual(999);
    expect(kept).toContain("newest");
    for (const oldest of ids.slice(0, 6)) expect(kept).not.toContain(oldest);
    expect(kept).toContain(ids.at(-1));
    expect(await redis.exists(`session:{${user}}:{${ids[0]}}`)).toBe(0); // its history went with it
  });
});

describe("retries after a save whose outcome is unknown", () => {
  // REDIS_TIMEOUT_MS is 3000 here: the worker gives up on the save, which Redis then runs anyway.
  const lateSave = (user: string) => injectFault(stack().faultProxyUrl, { match: user, path: "/multi-exec", mode: "delay", delayMs: 4500, times: 1 });
  const turn = (user: string, content: string, key: string, extra: Record<string, unknown> = {}) =>
    proxyFetch("/v1/chat/completions", { method: "POST", user, headers: { "X-Session-Id": "r", "Idempotency-Key": key }, body: chatBody(content, extra) });
  const stored = async (user: string) => (await redis.lrange(`session:{${user}}:{r}`, 0, -1)).map((m) => JSON.parse(m) as { role: string; content: string });

  it("are answered 503 turn_outcome_unknown, and a retry with the same Idempotency-Key stores the turn once, even racing the late save", async () => {
    const user = uniqueId("retry");
    const marker = `retry-${user}`;
    await lateSave(user);
    const first = await turn(user, marker, "key-1");
    expect(first.status).toBe(503);
    expect(first.headers.get("Retry-After")).toBe("1");
    expect(await errorOf(first)).toMatchObject({ type: "service_unavailable", code: "turn_outcome_unknown" });

    // At once, as an impatient client would: the first attempt's save has not reached Redis yet.
    const second = await turn(user, marker, "key-1");
    expect(second.status).toBe(200);
    await expect.poll(() => delayedThrough(stack().faultProxyUrl), { timeout: 5000 }).toBe(0);
    const messages = await stored(user);
    expect(messages.map((m) => m.role)).toEqual(["user", "assistant"]);

    // Once more: answered from the session, the model not asked again.
    const third = await turn(user, marker, '"key-1"');
    expect(third.status).toBe(200);
    expect(third.headers.get("Idempotent-Replayed")).toBe("true");
    const body = (await third.json()) as { object: string; choices: Array<{ message: { content: string }; finish_reason: string }> };
    expect(body.object).toBe("chat.completion");
    expect(body.choices[0]!.message.content).toBe(messages[1]!.content);
    expect(await upstreamRequests(marker)).toHaveLength(2);
    expect(await stored(user)).toHaveLength(2);
  });

  it("end a stream with a turn_outcome_unknown event, and a streamed retry replays the stored reply", async () => {
    const user = uniqueId("retry-stream");
    const marker = `retry-stream-${user}`;
    await lateSave(user);
    const first = await turn(user, marker, "key-s", { stream: true });
    const text = await first.text();
    expect(text).not.toContain("[DONE]");
    expect(text.trim().split("\n\n").at(-1)).toContain('"code":"turn_outcome_unknown"');
    await expect.poll(() => delayedThrough(stack().faultProxyUrl), { timeout: 5000 }).toBe(0);
    const messages = await stored(user);
    expect(messages).toHaveLength(2); // the late save did commit

    const retry = await turn(user, marker, "key-s", { stream: true });
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    const events = (await retry.text()).trim().split("\n\n");
    expect(events.at(-1)).toBe("data: [DONE]");
    const chunk = JSON.parse(events[0]!.slice("data: ".length)) as { choices: Array<{ delta: { content: string } }> };
    expect(chunk.choices[0]!.delta.content).toBe(messages[1]!.content);
    expect(await upstreamRequests(marker)).toHaveLength(1);
    expect(await stored(user)).toHaveLength(2);
  });

  it("refuses a malformed Idempotency-Key", async () => {
    const res = await turn(uniqueId("badkey"), "hi", "x".repeat(300));
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_idempotency_key", param: "Idempotency-Key" });
  });
});
