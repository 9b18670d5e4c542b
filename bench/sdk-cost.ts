/**
 * `npx tsx bench/sdk-cost.ts`: what the openai and @upstash/redis SDKs cost a turn in the runtime.
 * One worker (bench/sdk-cost-worker.ts) asks the mock model for a bench turn's completion, and
 * sends a turn's load (a pipeline) and save (a transaction) to the Upstash server, each way once
 * with the SDK as concierge configures it and once as a bare fetch of the same request. CPU of
 * its workerd process per request, from /proc, two rounds; the SDK's cost is the difference.
 */
import { build } from "esbuild";
import { startMockLlm } from "../dev/mock-llm/server";
import { startRedisServer } from "../dev/redis-server";
import { startUpstashServer } from "../dev/upstash/server";
import { cpuMsOfTree } from "./proc";
import { inlineWorker, ROOT } from "./targets";

const N = Number(process.env.BENCH_TURNS ?? 1000);
const WAYS = ["/model/fetch", "/model/sdk", "/upstash/fetch", "/upstash/sdk"];

async function main() {
  const mock = await startMockLlm({ apiKey: "k" });
  const redis = await startRedisServer().catch(() => undefined);
  const upstash = await startUpstashServer({ token: "t", redisUrl: redis?.url });
  const bundle = await build({
    entryPoints: [`${ROOT}/bench/sdk-cost-worker.ts`],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    minify: true,
    write: false,
    external: ["node:*"],
    logLevel: "error",
  });
  const worker = await inlineWorker("sdk-cost-worker", bundle.outputFiles[0]!.text, { MODEL_URL: mock.url, MODEL_KEY: "k", UPSTASH_URL: upstash.url, UPSTASH_TOKEN: "t" });
  const ask = async (way: string) => {
    const res = await fetch(`${worker.url}${way}`);
    if (!res.ok) throw new Error(`${way}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };

  const rounds: Array<Record<string, number>> = [];
  for (let round = 0; round < 2; round++) {
    const cpu: Record<string, number> = {};
    for (const way of WAYS) {
      for (let i = 0; i < 100; i++) await ask(way);
      const cpu0 = cpuMsOfTree(worker.pid!);
      for (let i = 0; i < N; i++) await ask(way);
      cpu[way] = Number(((cpuMsOfTree(worker.pid!) - cpu0) / N).toFixed(3));
    }
    rounds.push(cpu);
  }
  const cost = rounds.map((cpu) => ({
    openai_ms: Number((cpu["/model/sdk"]! - cpu["/model/fetch"]!).toFixed(3)),
    upstash_redis_ms: Number((cpu["/upstash/sdk"]! - cpu["/upstash/fetch"]!).toFixed(3)),
  }));
  console.log(JSON.stringify({ requests_per_way: N, workerd_cpu_ms_per_request: rounds, sdk_cost_per_turn: cost }, null, 2));
  await worker.dispose();
  await upstash.close();
  await redis?.stop();
  await mock.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
