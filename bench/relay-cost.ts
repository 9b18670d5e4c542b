/**
 * `npx tsx bench/relay-cost.ts`: what a streamed answer costs the runtime, by how its body is made.
 * A worker asks the mock model for a streamed reply (one chunk per token, as a provider sends them)
 * and answers with it in one of these ways, under Miniflare:
 *   - pipe: the upstream's body as is (a passthrough gateway; the runtime moves every byte);
 *   - transform-stream: read in JavaScript, each chunk written to a TransformStream;
 *   - identity-transform-stream: the same, written to an IdentityTransformStream (the runtime's own);
 *   - identity-unawaited: the same, without waiting for one write before the next read;
 *   - enqueue: a ReadableStream the reads are enqueued into as they come;
 *   - pull-piped: a ReadableStream whose pull reads the next chunk, piped into an
 *     IdentityTransformStream (how a session object once sent its reply log);
 *   - tee: the body teed, one branch to the client, the other read in JavaScript.
 * The relay must read every chunk (to save the reply) and write what it sends (it holds back the
 * end until the save), so `tee` is out of reach and the writes' stream is the choice left.
 * The mock sends its chunks back to back; BENCH_CHUNK_DELAY_MS spaces them as a provider's tokens
 * are, to see whether a cost is only that of a burst. BENCH_WAYS=pipe,tee measures some ways only.
 */
import { startMockLlm } from "../dev/mock-llm/server";
import { turnOf } from "./measure";
import { cpuMsOfTree } from "./proc";
import { inlineWorker } from "./targets";

const N = Number(process.env.BENCH_TURNS ?? 1000);
const ALL_WAYS = ["pipe", "transform-stream", "identity-transform-stream", "identity-unawaited", "enqueue", "pull-piped", "tee"];
const WAYS = process.env.BENCH_WAYS?.split(",").map((way) => way.trim()) ?? ALL_WAYS;
const CHUNK_DELAY_MS = Number(process.env.BENCH_CHUNK_DELAY_MS ?? 0);

const script = (upstream: string) => `
const relayInto = (body, writable) => {
  const writer = writable.getWriter();
  const reader = body.getReader();
  (async () => {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      await writer.write(value);
    }
    await writer.close();
  })();
};
export default {
  async fetch(request) {
    const way = new URL(request.url).searchParams.get("way");
    const res = await fetch(${JSON.stringify(upstream)}, { method: "POST", headers: { Authorization: "Bearer k", "Content-Type": "application/json" }, body: await request.text() });
    const sse = { headers: { "Content-Type": "text/event-stream" } };
    if (way === "pipe") return new Response(res.body, sse);
    if (way === "tee") {
      const [client, ours] = res.body.tee();
      const reader = ours.getReader();
      (async () => { while (!(await reader.read()).done); })();
      return new Response(client, sse);
    }
    if (way === "identity-unawaited") {
      const { readable, writable } = new IdentityTransformStream();
      const writer = writable.getWriter();
      const reader = res.body.getReader();
      (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          writer.write(value).catch(() => {});
        }
        writer.close().catch(() => {});
      })();
      return new Response(readable, sse);
    }
    if (way === "enqueue") {
      const reader = res.body.getReader();
      const enqueued = new ReadableStream({
        start(controller) {
          (async () => {
            for (;;) {
              const { done, value } = await reader.read();
              if (done) break;
              controller.enqueue(value);
            }
            controller.close();
          })();
        },
      });
      return new Response(enqueued, sse);
    }
    if (way === "pull-piped") {
      const reader = res.body.getReader();
      const pulled = new ReadableStream({ async pull(controller) { const { done, value } = await reader.read(); if (done) controller.close(); else controller.enqueue(value); } });
      const { readable, writable } = new IdentityTransformStream();
      pulled.pipeTo(writable).catch(() => {});
      return new Response(readable, sse);
    }
    const { readable, writable } = way === "transform-stream" ? new TransformStream() : new IdentityTransformStream();
    relayInto(res.body, writable);
    return new Response(readable, sse);
  },
};`;

async function main() {
  const unknown = WAYS.filter((way) => !ALL_WAYS.includes(way));
  if (unknown.length) throw new Error(`BENCH_WAYS: no such way: ${unknown.join(", ")} (there are ${ALL_WAYS.join(", ")})`);
  const mock = await startMockLlm({ apiKey: "k", chunkDelayMs: CHUNK_DELAY_MS });
  const worker = await inlineWorker("relay-cost-worker", script(`${mock.url}/chat/completions`));
  const { url, pid } = worker;
  if (pid === undefined) throw new Error("the worker's workerd process was not found");
  // A bench turn's request: 19 earlier messages, so the mock's reply is a bench turn's reply.
  const turn = turnOf("relay", 5, true);
  const body = JSON.stringify({ model: "mock-small", stream: true, messages: [...turn.history, { role: "user", content: turn.text }] });
  const ask = async (way: string) => (await fetch(`${url}/?way=${way}`, { method: "POST", body })).text();
  const reply = await ask("pipe");
  const chunks = reply.split("\n\n").filter(Boolean).length;

  const rounds: Array<Record<string, number>> = [];
  for (let round = 0; round < 2; round++) {
    const cpu: Record<string, number> = {};
    for (const way of WAYS) {
      for (let i = 0; i < 100; i++) await ask(way);
      const cpu0 = cpuMsOfTree(pid);
      for (let i = 0; i < N; i++) await ask(way);
      cpu[way] = Number(((cpuMsOfTree(pid) - cpu0) / N).toFixed(3));
    }
    rounds.push(cpu);
  }
  console.log(JSON.stringify({ requests_per_way: N, chunks_per_reply: chunks, chunk_delay_ms: CHUNK_DELAY_MS, workerd_cpu_ms_per_request: rounds }, null, 2));
  await worker.dispose();
  await mock.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
