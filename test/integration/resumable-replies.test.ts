import { readFileSync } from "node:fs";
import OpenAI from "openai";
import { describe, expect, it } from "vitest";
import { proxyFetch, stack, uniqueId, upstreamRequests } from "../support/context";
import { widgetToken } from "../support/widget-tokens";

/** A reply of `words` words that the mock model streams slowly enough to cut off midway. */
const slowAsk = (marker: string, words = 120) => `${marker} [mock:words=${words}] [mock:pace=15]`;
const wholeReply = (words: number) => Array.from({ length: words }, (_, i) => `word${i + 1}`).join(" ");

/** A widget's chat turn, as widget.js sends it. */
function widgetTurn(user: string, session: string, text: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${stack().url}/v1/chat/completions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${widgetToken(user)}`, "Content-Type": "application/json", "X-Session-Id": session, ...headers },
    body: JSON.stringify({ stream: true, messages: [{ role: "user", content: text }] }),
    signal,
  });
}

interface Read {
  text: string;
  /** The last event id seen (the proxy's count of pieces sent). */
  lastId: string;
  done: boolean;
}

/**
 * Reads a streamed reply's content until `stopAt` content characters (then drops the connection)
 * or its end; `firstText` runs once, when the first content has arrived.
 */
async function readReply(response: Response, stopAt = Infinity, firstText?: () => Promise<void>): Promise<Read> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  const read: Read = { text: "", lastId: "", done: false };
  let buffer = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return read;
    buffer += decoder.decode(value, { stream: true });
    let end;
    while ((end = buffer.indexOf("\n\n")) !== -1) {
      const lines = buffer.slice(0, end).split("\n");
      buffer = buffer.slice(end + 2);
      for (const line of lines) {
        if (line.startsWith("id:")) read.lastId = line.slice(3).trim();
        if (!line.startsWith("data:")) continue;
        const data = line.slice(5).trim();
        if (data === "[DONE]") read.done = true;
        else read.text += JSON.parse(data).choices?.[0]?.delta?.content ?? "";
      }
    }
    if (read.text && firstText) {
      await firstText();
      firstText = undefined;
    }
    if (read.done) return read;
    if (read.text.length >= stopAt) {
      await reader.cancel().catch(() => {});
      return read;
    }
  }
}

/**
 * The session as the session API shows it. Each attempt is bounded: wrangler dev's proxy sometimes
 * holds a request it forwards on a pooled connection that was just closing for ~30 s before it
 * answers (cloudflare/workers-sdk#14641, #15252; fixed in wranglers that need Node 22), and the
 * worker never sees it.
 */
async function storedMessages(user: string, session: string): Promise<Array<{ role: string; content: string }>> {
  for (let attempt = 1; ; attempt++) {
    try {
      const res = await fetch(`${stack().url}/v1/sessions/${session}`, { headers: { Authorization: `Bearer ${widgetToken(user)}` }, signal: AbortSignal.timeout(5_000) });
      if (res.status === 404) return [];
      return ((await res.json()) as { messages: Array<{ role: string; content: string }> }).messages;
    } catch (error) {
      if (attempt === 3 || !(error instanceof DOMException && error.name === "TimeoutError")) throw error;
    }
  }
}

describe("a widget's reply outlives its connection (the session's Durable Object owns the generation)", { timeout: 60_000 }, () => {
  it("attaches again with the same Idempotency-Key and Last-Event-ID, and streams the rest of the same reply live, once", async () => {
    const [user, session, marker, key] = [uniqueId("phone"), uniqueId("s"), uniqueId("resume"), crypto.randomUUID()];
    const first = await widgetTurn(user, session, slowAsk(marker), { "Idempotency-Key": key }, AbortSignal.timeout(30_000));
    expect(first.status).toBe(200);
    expect(first.headers.get("X-Reply-Resumable")).toBe("true");
    const cut = await readReply(first, 60);
    expect(cut.done).toBe(false);
    expect(cut.lastId).not.toBe("");

    const again = await widgetTurn(user, session, slowAsk(marker), { "Idempotency-Key": key, "Last-Event-ID": cut.lastId });
    expect(again.status).toBe(200);
    expect(again.headers.get("X-Reply-Resumed")).toBe("true");
    // The rest arrives while the model is still generating: the first of it before the turn is saved.
    let storedWhenItBegan: unknown;
    const rest = await readReply(again, Infinity, async () => void (storedWhenItBegan = await storedMessages(user, session)));
    expect(storedWhenItBegan).toEqual([]);
    expect(rest.done).toBe(true);
    // Each word exactly once: what was shown, then the rest.
    expect(cut.text + rest.text).toBe(wholeReply(120));
    // One generation, saved once.
    expect(await upstreamRequests(marker)).toHaveLength(1);
    const stored = await storedMessages(user, session);
    expect(stored.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(stored[1]!.content).toBe(wholeReply(120));
  });

  it("saves a reply whose client never comes back, and a late retry gets the rest of it, not a second answer", async () => {
    const [user, session, marker, key] = [uniqueId("phone"), uniqueId("s"), uniqueId("gone"), crypto.randomUUID()];
    const first = await widgetTurn(user, session, slowAsk(marker, 60), { "Idempotency-Key": key });
    const cut = await readReply(first, 30);
    // The object saw its client go, as what it is: no uncaught error in the log.
    const gone = `"event":"client_gone","request_id":"${first.headers.get("X-Request-Id")}"`;
    await expect.poll(() => readFileSync(stack().workerLogFile, "utf8"), { timeout: 10_000 }).toContain(gone);
    expect(readFileSync(stack().workerLogFile, "utf8")).not.toContain("Uncaught Error: Network connection lost");
    await expect.poll(() => storedMessages(user, session), { timeout: 20_000, interval: 200 }).toHaveLength(2);
    const stored = await storedMessages(user, session);
    expect(stored[1]!.content).toBe(wholeReply(60));

    const late = await widgetTurn(user, session, slowAsk(marker, 60), { "Idempotency-Key": key, "Last-Event-ID": cut.lastId });
    expect(late.headers.get("X-Reply-Resumed")).toBe("true");
    const rest = await readReply(late);
    expect(cut.text + rest.text).toBe(wholeReply(60));
    expect(await upstreamRequests(marker)).toHaveLength(1);
    expect(await storedMessages(user, session)).toHaveLength(2);
  });

  it("without an Idempotency-Key, a dropped reply is still generated to its end and saved", async () => {
    const [user, session, marker] = [uniqueId("phone"), uniqueId("s"), uniqueId("nokey")];
    const response = await widgetTurn(user, session, slowAsk(marker, 60));
    expect(response.headers.get("X-Reply-Resumable")).toBeNull();
    await readReply(response, 30);
    await expect.poll(() => storedMessages(user, session), { timeout: 20_000, interval: 200 }).toHaveLength(2);
    expect((await storedMessages(user, session))[1]!.content).toBe(wholeReply(60));
  });

  it("streams to the openai SDK as any reply does (the id blocks carry no event)", async () => {
    const [user, session] = [uniqueId("sdk"), uniqueId("s")];
    const client = new OpenAI({ baseURL: `${stack().url}/v1`, apiKey: widgetToken(user), maxRetries: 0 });
    const stream = await client.chat.completions.create(
      { model: "mock-small", stream: true, messages: [{ role: "user", content: "[mock:words=30] hello" }] },
      { headers: { "X-Session-Id": session, "Idempotency-Key": crypto.randomUUID() } },
    );
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    expect(text).toBe(wholeReply(30));
  });

  it("refuses a Last-Event-ID it never sent, and leaves backends' turns where they run", async () => {
    const [user, session, key] = [uniqueId("phone"), uniqueId("s"), crypto.randomUUID()];
    const first = await widgetTurn(user, session, slowAsk(uniqueId("bad"), 40), { "Idempotency-Key": key });
    const bad = await widgetTurn(user, session, "hello", { "Idempotency-Key": key, "Last-Event-ID": "three" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_last_event_id");
    await readReply(first);

    const backend = await proxyFetch("/v1/chat/completions", {
      method: "POST",
      user,
      headers: { "X-Session-Id": uniqueId("s"), "Idempotency-Key": crypto.randomUUID() },
      body: JSON.stringify({ model: "mock-small", stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    expect(backend.status).toBe(200);
    expect(backend.headers.get("X-Reply-Resumable")).toBeNull();
    await backend.text();
  });

  it("answers a retry that is not resuming the stream (a JSON client's) with the saved reply, once it is saved", async () => {
    const [user, session, marker, key] = [uniqueId("phone"), uniqueId("s"), uniqueId("json"), crypto.randomUUID()];
    const first = await widgetTurn(user, session, slowAsk(marker, 40), { "Idempotency-Key": key });
    await readReply(first, 10);
    const retry = await fetch(`${stack().url}/v1/chat/completions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${widgetToken(user)}`, "Content-Type": "application/json", "X-Session-Id": session, "Idempotency-Key": key },
      body: JSON.stringify({ messages: [{ role: "user", content: slowAsk(marker, 40) }] }),
    });
    expect(retry.status, await retry.clone().text()).toBe(200);
    expect(retry.headers.get("Content-Type")).toContain("application/json");
    expect(retry.headers.get("Idempotent-Replayed")).toBe("true");
    expect(((await retry.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe(wholeReply(40));
    expect(await upstreamRequests(marker)).toHaveLength(1);
  });

  it("runs a retry of a reply that failed mid-stream as a new turn, instead of showing it the failure again", async () => {
    const [user, session, marker, key] = [uniqueId("phone"), uniqueId("s"), uniqueId("failed"), crypto.randomUUID()];
    const ask = `${marker} [mock:words=20] [mock:error-event-after=3]`;
    const failed = await (await widgetTurn(user, session, ask, { "Idempotency-Key": key })).text();
    expect(failed).toContain("upstream_stream_error");
    const retry = await widgetTurn(user, session, ask, { "Idempotency-Key": key, "Last-Event-ID": "2" });
    expect(retry.headers.get("X-Reply-Resumed")).toBeNull();
    await retry.text();
    // The model was asked again: the retry ran the turn.
    expect(await upstreamRequests(marker)).toHaveLength(2);
  });

  for (const [what, forget] of [
    ["its user is erased", (user: string) => proxyFetch("/v1/profile", { method: "DELETE", user })],
    ["its session is deleted", (user: string, session: string) => proxyFetch(`/v1/sessions/${session}`, { method: "DELETE", user })],
  ] as const) {
    it(`does not stream a finished reply again once ${what}: the resume runs the turn anew`, async () => {
      const [user, session, marker, key] = [uniqueId("phone"), uniqueId("s"), uniqueId("forgotten"), crypto.randomUUID()];
      const ask = `${marker} [mock:words=20]`;
      const whole = await readReply(await widgetTurn(user, session, ask, { "Idempotency-Key": key }));
      expect(whole.done).toBe(true);
      expect((await forget(user, session)).status).toBe(200);

      const resumed = await widgetTurn(user, session, ask, { "Idempotency-Key": key, "Last-Event-ID": "0" });
      expect(resumed.status).toBe(200);
      expect(resumed.headers.get("X-Reply-Resumed")).toBeNull();
      expect((await readReply(resumed)).done).toBe(true);
      // Not the reply from the object's memory: the model was asked again, and the session holds only the new turn.
      expect(await upstreamRequests(marker)).toHaveLength(2);
      expect(await storedMessages(user, session)).toHaveLength(2);
    });
  }
});
