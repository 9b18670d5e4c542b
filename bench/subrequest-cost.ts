/**
 * `npx tsx bench/subrequest-cost.ts`: what the runtime charges for a request and for each fetch a
 * worker makes, with no code of ours. A worker makes 0 to 3 small fetches to a local server and
 * answers "ok"; CPU of its workerd process (user and system, from /proc) per request, one request
 * at a time and 32 at once. Twice: the way the bench runs workers (their own socket, fetches
 * straight out), and through the two workers Miniflare adds by default and production lacks (an
 * entry worker in front, one that strips CF-Connecting-IP behind every fetch).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cpuMsOfTree } from "./proc";
import { inlineWorker } from "./targets";

const N = Number(process.env.BENCH_TURNS ?? 2000);
const CONCURRENCY = 32;

const script = (fetches: number) => `export default {
  async fetch(request, env) {
    for (let i = 0; i < ${fetches}; i++) await (await fetch(env.URL, { method: "POST", body: "[]" })).text();
    return new Response("ok");
  },
};`;

async function main() {
  // Answers as small as an Upstash reply, over one kept-alive connection (workerd pools it).
  const server = createServer((request, response) => {
    request.resume();
    request.on("end", () => response.writeHead(200, { "Content-Type": "application/json" }).end('{"result":"OK"}'));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;

  const results: Record<string, Record<string, { sequential_cpu_ms: number; concurrent_cpu_ms: number }>> = {};
  for (const throughMiniflare of [false, true]) {
    const way = throughMiniflare ? "through_miniflare_workers" : "as_the_bench_runs";
    results[way] = {};
    for (const fetches of [0, 1, 2, 3]) {
      const worker = await inlineWorker(`subrequest-cost-${fetches}`, script(fetches), { URL: url }, {}, throughMiniflare);
      const ask = async () => (await fetch(worker.url)).text();
      for (let i = 0; i < 200; i++) await ask();
      const cpu0 = cpuMsOfTree(worker.pid!);
      for (let i = 0; i < N; i++) await ask();
      const cpu1 = cpuMsOfTree(worker.pid!);
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => { for (let i = 0; i < N / CONCURRENCY; i++) await ask(); }));
      const cpu2 = cpuMsOfTree(worker.pid!);
      results[way][`${fetches}_fetches`] = { sequential_cpu_ms: Number(((cpu1 - cpu0) / N).toFixed(3)), concurrent_cpu_ms: Number(((cpu2 - cpu1) / N).toFixed(3)) };
      await worker.dispose();
    }
  }
  console.log(JSON.stringify({ requests: N, workerd_cpu_ms_per_request: results }, null, 2));
  server.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
