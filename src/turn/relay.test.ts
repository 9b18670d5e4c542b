import { describe, expect, it } from "vitest";
import type { AssistantMessage } from "../messages/reply";
import { relayStream, type StreamFormat } from "./relay";

const encoder = new TextEncoder();

/** An upstream that streams `words` as Chat Completions chunks, one read each, then [DONE]. */
function upstreamOf(words: string[]): ReadableStream<Uint8Array> {
  const events = [
    ...words.map((word) => `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: word }, finish_reason: null }] })}\n\n`),
    `data: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\n`,
    "data: [DONE]\n\n",
  ];
  return new ReadableStream({
    pull(controller) {
      const next = events.shift();
      if (next === undefined) controller.close();
      else controller.enqueue(encoder.encode(next));
    },
  });
}

/** Events as they came and `[DONE]` after the save, as Chat Completions' front door sends them. */
const passThrough: StreamFormat = {
  start: () => "",
  event: (raw) => `${raw}\n\n`,
  end: () => "data: [DONE]\n\n",
  fail: (error) => `data: ${JSON.stringify(error.toJSON())}\n\n`,
};

/** relayStream with a turn that records what it saved. */
function relayed(words: string[], options: { idleTimeoutMs: number; clientGone?: AbortSignal }) {
  const saved: AssistantMessage[] = [];
  const failures: string[] = [];
  const relay = relayStream(upstreamOf(words), {
    ...options,
    format: passThrough,
    complete: async (reply) => void saved.push(reply),
    onFailure: (reason) => failures.push(reason),
  });
  return { ...relay, saved, failures };
}

const words = Array.from({ length: 50 }, (_, i) => `w${i} `);

describe("relayStream", () => {
  it("forwards each event, then [DONE] once the reply is saved", async () => {
    const relay = relayed(words, { idleTimeoutMs: 5_000 });
    const text = await new Response(relay.body).text();
    await relay.finished;
    expect(text.match(/^data: \{/gm)).toHaveLength(51);
    expect(text.endsWith("data: [DONE]\n\n")).toBe(true);
    expect(relay.saved.map((reply) => reply.content)).toEqual([words.join("")]);
    expect(relay.failures).toEqual([]);
  });

  it("stops waiting on a client that stopped reading, and still reads the model to the end and saves", async () => {
    const relay = relayed(words, { idleTimeoutMs: 20 });
    relay.body.getReader(); // a client that never reads
    await relay.finished;
    expect(relay.saved.map((reply) => reply.content)).toEqual([words.join("")]);
  });

  it("stops waiting on a client the moment its request says it left, however long the idle timeout", async () => {
    const gone = new AbortController();
    // Longer than the test may take: only the signal can end this wait.
    const relay = relayed(words, { idleTimeoutMs: 600_000, clientGone: gone.signal });
    relay.body.getReader();
    gone.abort();
    await relay.finished;
    expect(relay.saved.map((reply) => reply.content)).toEqual([words.join("")]);
  });

  it("does not wait at all on a client that left before the stream began", async () => {
    const gone = new AbortController();
    gone.abort();
    const relay = relayed(words, { idleTimeoutMs: 600_000, clientGone: gone.signal });
    await relay.finished;
    expect(relay.saved).toHaveLength(1);
  });
});
