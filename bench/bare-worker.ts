/**
 * The baseline: a Hono worker that forwards a chat completion to the upstream and streams the
 * answer back, with nothing else. What any proxy on Workers costs at the least.
 *
 * With UPSTASH_URL set it also sends a memory turn's two Upstash requests, verbatim (LOAD_BODY to
 * /pipeline before the upstream, SAVE_BODY to /multi-exec once the stream has passed through, as
 * concierge saves before the answer ends) and does nothing with their answers: what the runtime
 * alone charges for a turn's three subrequests, the floor under concierge with memory on. Holding
 * the end back until the save means the answer is written from JavaScript, chunk by chunk, into the
 * cheapest stream for that (an IdentityTransformStream, bench/relay-cost.ts), as concierge does.
 */
import { Hono } from "hono";

// The runtime's own stream; @cloudflare/workers-types is not among this file's types.
declare const IdentityTransformStream: new () => { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };

interface Env {
  OPENAI_BASE_URL: string;
  OPENAI_API_KEY: string;
  UPSTASH_URL?: string;
  UPSTASH_TOKEN?: string;
  LOAD_BODY?: string;
  SAVE_BODY?: string;
}

const app = new Hono<{ Bindings: Env }>();

app.post("/v1/chat/completions", async (c) => {
  const upstash = (path: string, body: string | undefined) =>
    fetch(`${c.env.UPSTASH_URL}${path}`, { method: "POST", headers: { Authorization: `Bearer ${c.env.UPSTASH_TOKEN}` }, body }).then((res) => res.arrayBuffer());
  if (c.env.UPSTASH_URL) await upstash("/pipeline", c.env.LOAD_BODY);
  const upstream = await fetch(`${c.env.OPENAI_BASE_URL}/chat/completions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${c.env.OPENAI_API_KEY}`, "Content-Type": "application/json" },
    body: c.req.raw.body,
  });
  const init = { status: upstream.status, headers: { "Content-Type": upstream.headers.get("Content-Type") ?? "application/json" } };
  if (!c.env.UPSTASH_URL || !upstream.body) return new Response(upstream.body, init);
  const { readable, writable } = new IdentityTransformStream();
  const relay = async (reader: ReadableStreamDefaultReader<Uint8Array>, writer: WritableStreamDefaultWriter<Uint8Array>) => {
    for (let read = await reader.read(); !read.done; read = await reader.read()) await writer.write(read.value);
    await upstash("/multi-exec", c.env.SAVE_BODY);
    await writer.close();
  };
  c.executionCtx.waitUntil(relay(upstream.body.getReader(), writable.getWriter()));
  return new Response(readable, init);
});

export default app;
