/**
 * `npx tsx bench/resume-cost.ts`: what each way of making replies resumable adds to every turn,
 * measured under Miniflare, as the least each would cost:
 *   - a Durable Object per session owning the generation (the way chosen): one DO request a turn;
 *   - chunks in Upstash: one more Upstash write a turn (more for a long reply).
 * Each is timed as a worker that does only that, against a worker that does nothing. Locally a DO
 * is in the same process; in production it lives in one place, and a turn from a far colo pays a
 * round trip to it on top.
 */
import { startUpstashServer } from "../dev/upstash/server";
import { percentile } from "./measure";
import { cpuMsOfTree } from "./proc";
import { inlineWorker } from "./targets";

const N = Number(process.env.BENCH_TURNS ?? 400);

const script = `
export class Session {
  constructor(state) { this.state = state; }
  async fetch(request) { return new Response(String(((await this.state.storage.get("n")) ?? 0) + 1)); }
}
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/do") return env.SESSION.get(env.SESSION.idFromName("s-" + url.searchParams.get("s"))).fetch("https://do/");
    if (url.pathname === "/upstash") {
      const res = await fetch(env.UPSTASH + "/pipeline", { method: "POST", headers: { Authorization: "Bearer t" }, body: JSON.stringify([["RPUSH", "chunks:" + url.searchParams.get("s"), "a chunk of a reply"], ["EXPIRE", "chunks:" + url.searchParams.get("s"), "60"]]) });
      return new Response(await res.text());
    }
    return new Response("ok");
  },
};`;

async function main() {
  const upstash = await startUpstashServer({ token: "t" });
  const worker = await inlineWorker("resume-cost-worker", script, { UPSTASH: upstash.url }, { SESSION: "Session" });
  const { url, pid } = worker;
  if (pid === undefined) throw new Error("the worker's workerd process was not found");
  const result: Record<string, { p50_ms: number; workerd_cpu_ms_per_req: number }> = {};
  for (const path of ["/", "/do", "/upstash"]) {
    for (let i = 0; i < 50; i++) await (await fetch(`${url}${path}?s=${i % 20}`)).text();
    const samples: number[] = [];
    const cpu0 = cpuMsOfTree(pid);
    for (let i = 0; i < N; i++) {
      const started = performance.now();
      await (await fetch(`${url}${path}?s=${i % 20}`)).text();
      samples.push(performance.now() - started);
    }
    // The worker's runtime only (a DO runs in it too; the Upstash server's own work is not counted).
    const cpu = cpuMsOfTree(pid) - cpu0;
    result[path === "/" ? "nothing" : path.slice(1)] = { p50_ms: Number(percentile(samples, 50).toFixed(2)), workerd_cpu_ms_per_req: Number((cpu / N).toFixed(3)) };
  }
  const added = (name: string) => ({
    p50_ms: Number((result[name]!.p50_ms - result.nothing!.p50_ms).toFixed(2)),
    workerd_cpu_ms: Number((result[name]!.workerd_cpu_ms_per_req - result.nothing!.workerd_cpu_ms_per_req).toFixed(3)),
  });
  console.log(JSON.stringify({ measured: result, added_per_turn: { durable_object_request: added("do"), upstash_write: added("upstash") } }, null, 2));
  await worker.dispose();
  await upstash.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
