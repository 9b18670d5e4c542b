import { afterAll, describe, expect, it } from "vitest";
import { directRedis, keysOf, openaiFor, proxyFetch, uniqueId, upstreamRequests } from "../support/context";

const redis = directRedis();
afterAll(() => redis.quit());

function chatBody(content: string, extra: Record<string, unknown> = {}) {
  return JSON.stringify({ model: "mock-small", stream: true, messages: [{ role: "user", content }], ...extra });
}

/** Reads SSE events off a raw response, one at a time, as a browser would. */
async function* sseEvents(res: Response): AsyncGenerator<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      yield buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
    }
  }
}

async function allEvents(res: Response): Promise<string[]> {
  const events: string[] = [];
  for await (const event of sseEvents(res)) events.push(event);
  return events;
}

describe("streaming", () => {
  it("arrives in chunks through the openai SDK, and the streamed reply is in the next turn's history", async () => {
    const user = uniqueId("stream");
    const client = openaiFor(user, { "X-Session-Id": "s" });
    const stream = await client.chat.completions.create({
      model: "mock-small",
      stream: true,
      messages: [{ role: "user", content: `tell me something ${user}` }],
    });
    const pieces: string[] = [];
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta.content;
      if (piece) pieces.push(piece);
    }
    const reply = pieces.join("");
    expect(pieces.length).toBeGreaterThan(5);
    expect(reply).toContain(`You said: "tell me something ${user}".`);

    await client.chat.completions.create({ model: "mock-small", messages: [{ role: "user", content: `and then ${user}` }] });
    const [next] = await upstreamRequests(`and then ${user}`);
    expect(next!.body.messages.map((m) => m.content)).toEqual([
      "You are a helpful assistant.",
      `tell me something ${user}`,
      reply,
      `and then ${user}`,
    ]);
  });

  it("forwards each chunk as it comes: the client reads the first ones while the upstream is still mid-answer", async () => {
    const user = uniqueId("unbuffered");
    // The mock sends three pieces and then goes silent; a buffering proxy would show nothing until the end.
    const res = await proxyFetch("/v1/chat/completions", { method: "POST", user, body: chatBody("[mock:stall-after=3] hello there you") });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events = sseEvents(res);
    const first: string[] = [];
    for (let i = 0; i < 4; i++) first.push((await events.next()).value as string);
    expect(first.map((e) => JSON.parse(e.slice(6)).choices[0].delta.content)).toEqual(["", "You ", "said: ", '"hello ']);

    // Then the stall outlives UPSTREAM_IDLE_TIMEOUT_MS: one error event, no [DONE], nothing stored.
    const rest: string[] = [];
    for await (const event of events) rest.push(event);
    expect(rest).toHaveLength(1);
    expect(JSON.parse(rest[0]!.slice(6))).toMatchObject({ error: { code: "upstream_timeout", type: "upstream_error" } });
    expect(await keysOf(redis, user)).toEqual([]);
  });

  it("saves the turn before [DONE], so a request right after it always sees it", async () => {
    const user = uniqueId("done");
    const res = await proxyFetch("/v1/chat/completions", {
      method: "POST",
      user,
      headers: { "X-Session-Id": "x" },
      body: chatBody(`hi ${user}`),
    });
    const events: string[] = [];
    for await (const event of sseEvents(res)) {
      events.push(event);
      if (event === "data: [DONE]") {
        // Checked the moment [DONE] arrives, before the stream has even closed.
        expect(await redis.llen(`session:{${user}}:{x}`)).toBe(2);
      }
    }
    expect(events.at(-1)).toBe("data: [DONE]");
  });

  it("stores nothing when the upstream drops mid-stream, and ends the stream with one error event and no [DONE]", async () => {
    const user = uniqueId("drop");
    const res = await proxyFetch("/v1/chat/completions", { method: "POST", user, headers: { "X-Session-Id": "x" }, body: chatBody("[mock:drop-after=2] hi") });
    const events = await allEvents(res);
    expect(events).not.toContain("data: [DONE]");
    const last = JSON.parse(events.at(-1)!.slice(6));
    expect(last.error).toMatchObject({ type: "upstream_error" });
    expect(["upstream_stream_broken", "upstream_stream_truncated"]).toContain(last.error.code);
    expect(events.filter((e) => e.includes('"error"'))).toHaveLength(1);
    expect(await keysOf(redis, user)).toEqual([]);
  });

  it("stores nothing when the upstream sends an error event mid-stream", async () => {
    const user = uniqueId("error-event");
    const events = await allEvents(
      await proxyFetch("/v1/chat/completions", { method: "POST", user, headers: { "X-Session-Id": "x" }, body: chatBody("[mock:error-event-after=2] hi") }),
    );
    expect(events).not.toContain("data: [DONE]");
    expect(JSON.parse(events.at(-1)!.slice(6)).error.code).toBe("upstream_stream_error");
    expect(await keysOf(redis, user)).toEqual([]);
  });

  it("still saves a completed turn when the client disconnects mid-stream", async () => {
    const user = uniqueId("gone");
    const controller = new AbortController();
    const res = await proxyFetch("/v1/chat/completions", {
      method: "POST",
      user,
      headers: { "X-Session-Id": "x" },
      body: chatBody(`[mock:words=300] long answer ${user}`),
      signal: controller.signal,
    });
    const events = sseEvents(res);
    await events.next();
    await events.next();
    controller.abort();

    // The worker finishes reading the upstream on its own and commits the whole turn.
    let stored: string[] = [];
    for (let attempt = 0; attempt < 100 && stored.length < 2; attempt++) {
      stored = await redis.lrange(`session:{${user}}:{x}`, 0, -1);
      if (stored.length < 2) await new Promise((r) => setTimeout(r, 50));
    }
    expect(stored).toHaveLength(2);
    const reply = JSON.parse(stored[1]!) as { content: string };
    expect(reply.content.split(" ")).toHaveLength(300);
    expect(reply.content.endsWith("word300")).toBe(true);
  });
});
