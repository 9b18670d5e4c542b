import { afterAll, describe, expect, it } from "vitest";
import { requestsThrough } from "../../dev/fault-proxy";
import { allKeysOf, directRedis, keysOf, openaiFor, proxyFetch, stack, uniqueId, upstreamRequests } from "../support/context";

const redis = directRedis();
afterAll(() => redis.quit());

const said = (text: string) => `You said: "${text}".`;

describe("session memory through the official openai client", () => {
  it("remembers a conversation: the upstream gets system, earlier turns in order, then the new message", async () => {
    const user = uniqueId("mem");
    const session = "trip-planning";
    const client = openaiFor(user, { "X-Session-Id": session });
    const turns = [`first ${user}`, `second ${user}`, `third ${user}`];

    for (const text of turns) {
      const { data, response } = await client.chat.completions.create({ model: "mock-small", messages: [{ role: "user", content: text }] }).withResponse();
      expect(data.choices[0]!.message.content).toContain(said(text));
      expect(response.headers.get("x-session-id")).toBe(session);
    }

    const [third] = await upstreamRequests(turns[2]!);
    expect(third!.body.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "user", "assistant", "user"]);
    expect(third!.body.messages[0]!.content).toBe("You are a helpful assistant.");
    expect(third!.body.messages.filter((m) => m.role === "user").map((m) => m.content)).toEqual(turns);
    expect(third!.body.messages[2]!.content).toContain(said(turns[0]!));
    expect(third!.body.messages[4]!.content).toContain(said(turns[1]!));
  });

  it("creates a session id when the client sends none, and continues it when sent back", async () => {
    const user = uniqueId("new-session");
    const client = openaiFor(user);
    const first = await client.chat.completions.create({ messages: [{ role: "user", content: `hello ${user}` }], model: "mock-small" }).withResponse();
    const session = first.response.headers.get("x-session-id");
    expect(session).toMatch(/^s_[0-9a-f]{32}$/);

    const second = await client.chat.completions
      .create({ messages: [{ role: "user", content: `again ${user}` }], model: "mock-small" }, { headers: { "X-Session-Id": session! } })
      .withResponse();
    expect(second.data.choices[0]!.message.content).toContain("I can see 2 earlier messages");
  });

  it("never duplicates history for clients that resend the whole conversation (useChat)", async () => {
    const user = uniqueId("usechat");
    const client = openaiFor(user, { "X-Session-Id": "chat" });
    const history: Array<{ role: "user" | "assistant"; content: string }> = [];
    for (const text of ["one", "two", "three"]) {
      history.push({ role: "user", content: `${text} ${user}` });
      const reply = await client.chat.completions.create({ model: "mock-small", messages: history });
      history.push({ role: "assistant", content: reply.choices[0]!.message.content ?? "" });
    }
    const stored = await redis.lrange(`session:{${user}}:{chat}`, 0, -1);
    expect(stored.map((m) => JSON.parse(m).content)).toEqual(history.map((m) => m.content));
  });

  it("seeds an empty session with the client's earlier messages, then trusts only what is stored", async () => {
    const user = uniqueId("seed");
    const client = openaiFor(user, { "X-Session-Id": "seeded" });
    await client.chat.completions.create({
      model: "mock-small",
      messages: [
        { role: "user", content: "my name is Ada" },
        { role: "assistant", content: "Hello Ada" },
        { role: "user", content: `what is my name? ${user}` },
      ],
    });
    // A client that lies about earlier turns changes nothing once the session exists.
    await client.chat.completions.create({
      model: "mock-small",
      messages: [
        { role: "user", content: "my name is Mallory" },
        { role: "assistant", content: "Hello Mallory" },
        { role: "user", content: `and now? ${user}` },
      ],
    });
    const [request] = await upstreamRequests(`and now? ${user}`);
    const contents = request!.body.messages.map((m) => m.content);
    expect(contents).toContain("my name is Ada");
    expect(contents).not.toContain("my name is Mallory");
  });

  it("keeps a legacy function call with its result, and the next turn sends both upstream", async () => {
    const user = uniqueId("legacy-functions");
    const client = openaiFor(user, { "X-Session-Id": "functions" });
    await client.chat.completions.create({
      model: "mock-small",
      messages: [
        { role: "user", content: "weather in Lisbon?" },
        { role: "assistant", content: null, function_call: { name: "get_weather", arguments: '{"city":"Lisbon"}' } },
        { role: "function", name: "get_weather", content: `sunny ${user}` },
      ],
    });
    await client.chat.completions.create({ model: "mock-small", messages: [{ role: "user", content: `thanks ${user}` }] });
    const [request] = await upstreamRequests(`thanks ${user}`);
    expect(request!.body.messages.slice(1, 4)).toEqual([
      { role: "user", content: "weather in Lisbon?" },
      { role: "assistant", content: null, function_call: { name: "get_weather", arguments: '{"city":"Lisbon"}' } },
      { role: "function", name: "get_weather", content: `sunny ${user}` },
    ]);
  });

  it("keeps the window after 25 turns while storing them all", async () => {
    const user = uniqueId("window");
    const client = openaiFor(user, { "X-Session-Id": "long" });
    let last: Response | undefined;
    for (let turn = 1; turn <= 25; turn++) {
      const { response } = await client.chat.completions
        .create({ model: "mock-small", messages: [{ role: "user", content: `turn ${turn} ${user}` }] })
        .withResponse();
      last = response;
    }
    const [request] = await upstreamRequests(`turn 25 ${user}`);
    const messages = request!.body.messages;
    expect(messages.length).toBeLessThanOrEqual(20);
    expect(messages[0]!.role).toBe("system");
    expect(messages[1]!.role).toBe("user");
    expect(messages.at(-1)!.content).toBe(`turn 25 ${user}`);
    // The most recent turns, in order, with nothing skipped.
    const turns = messages.filter((m) => m.role === "user").map((m) => Number(String(m.content).split(" ")[1]));
    expect(turns).toEqual(Array.from({ length: turns.length }, (_, i) => 25 - turns.length + 1 + i));
    expect(Number(last!.headers.get("x-history-kept")) + Number(last!.headers.get("x-history-dropped"))).toBe(19);
    expect(Number(last!.headers.get("x-history-kept"))).toBe(messages.length - 2);
    expect(Number(last!.headers.get("x-prompt-tokens-estimated"))).toBeGreaterThan(0);
    expect(await redis.llen(`session:{${user}}:{long}`)).toBe(50);
  });

  it("puts a TTL on every key it writes, read from Redis itself", async () => {
    const user = uniqueId("ttl");
    await openaiFor(user, { "X-Session-Id": "a" }).chat.completions.create({ model: "mock-small", messages: [{ role: "user", content: "hi" }] });
    await openaiFor(user, { "X-Session-Id": "b" }).chat.completions.create({ model: "mock-small", messages: [{ role: "user", content: "hi" }] });
    expect(await keysOf(redis, user)).toEqual([
      `profile:{${user}}`,
      `session:{${user}}:{a}`,
      `session:{${user}}:{a}:appended`,
      `session:{${user}}:{b}`,
      `session:{${user}}:{b}:appended`,
      `sessions:{${user}}`,
    ]);
    const all = await allKeysOf(redis, user);
    expect(all.some((key) => key.startsWith("ratelimit:user:"))).toBe(true);
    for (const key of all) {
      const ttl = await redis.pttl(key);
      // Sessions live SESSION_TTL_SECONDS from their last turn, the profile cache
      // PROFILE_CACHE_TTL_SECONDS, rate-limit counters a couple of windows (2 s here).
      const [min, max] = key.startsWith("profile:") ? [250_000, 300_000] : key.startsWith("ratelimit:") ? [1, 10_000] : [3_500_000, 3_600_000];
      expect(ttl, key).toBeGreaterThan(min);
      expect(ttl, key).toBeLessThanOrEqual(max);
    }
  });

  it("loses nothing when 20 turns of one session run at once", async () => {
    const user = uniqueId("concurrent");
    const client = openaiFor(user, { "X-Session-Id": "busy" });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => client.chat.completions.create({ model: "mock-small", messages: [{ role: "user", content: `parallel ${i}` }] })),
    );
    const stored = (await redis.lrange(`session:{${user}}:{busy}`, 0, -1)).map((m) => JSON.parse(m) as { role: string; content: string });
    expect(stored).toHaveLength(40);
    const asked = new Set<string>();
    for (let i = 0; i < stored.length; i += 2) {
      // Each turn is one transaction: a user message is always followed by its own reply.
      expect(stored[i]!.role).toBe("user");
      expect(stored[i + 1]!.role).toBe("assistant");
      expect(stored[i + 1]!.content).toContain(said(stored[i]!.content));
      asked.add(stored[i]!.content);
    }
    expect(asked.size).toBe(20);
  });

  it("stores no history for a stateless request (X-Session-Store: false)", async () => {
    const user = uniqueId("stateless");
    const { data, response } = await openaiFor(user, { "X-Session-Store": "false" })
      .chat.completions.create({
        model: "mock-small",
        messages: [
          { role: "user", content: "a" },
          { role: "assistant", content: "b" },
          { role: "user", content: "c" },
        ],
      })
      .withResponse();
    expect(data.choices[0]!.message.content).toContain("I can see 2 earlier messages");
    expect(response.headers.get("x-session-id")).toBeNull();
    // Who the user is still counts (their cached profile); what they said is not kept.
    expect(await keysOf(redis, user)).toEqual([`profile:{${user}}`]);
  });

  it("carries X-Request-Id and Server-Timing on chat responses", async () => {
    const user = uniqueId("headers");
    const res = await proxyFetch("/v1/chat/completions", {
      method: "POST",
      user,
      body: JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: "hi" }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^req_/);
    const timing = res.headers.get("server-timing") ?? "";
    for (const phase of ["auth", "memory", "upstream", "persist"]) expect(timing).toMatch(new RegExp(`${phase};dur=`));
  });
});

describe("round trips", () => {
  it("costs one Upstash request to load a turn and one to save it, streaming or not", async () => {
    const user = uniqueId("trips");
    const client = openaiFor(user, { "X-Session-Id": "r" });
    await client.chat.completions.create({ model: "mock-small", messages: [{ role: "user", content: "one" }] });
    const stream = await client.chat.completions.create({ model: "mock-small", stream: true, messages: [{ role: "user", content: "two" }] });
    for await (const _ of stream) {
      // drain
    }
    expect(await requestsThrough(stack().faultProxyUrl, user)).toEqual(["/pipeline", "/multi-exec", "/pipeline", "/multi-exec"]);
  });
});
