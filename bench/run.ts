/**
 * `npm run bench`: what a turn costs, side by side in one run. Every worker runs under the
 * Miniflare API (no wrangler dev proxy in front), against the same mock model (no latency), our
 * Upstash server (in a process of its own, over redis-server when installed) and the Cosmos
 * emulator:
 *   direct      the mock model itself
 *   bare_hono   a Hono worker that only forwards (bench/bare-worker.ts): the floor of any proxy
 *   concierge_memory     concierge with memory on: a full window loaded every turn, profile cached
 *   concierge_stateless  concierge with X-Session-Store: false (the client sends the history)
 *   concierge_memory_recall  memory on with RECALL=on, for users with 10,000 indexed messages in
 *                        their other sessions: every turn's search ranks all of them
 *   concierge_memory_sync_do  memory on with SYNC_FALLBACK=durable-object: the bench's client echoes
 *                        no sync token, so each turn asks the session's Durable Object for one
 *                        and tells it the save's (locally the object is in the same process)
 *   portkey_1_15_2       @portkey-ai/gateway on Node, in front of the same mock
 *   bare_hono_3_fetches  bare_hono plus a memory turn's two Upstash requests sent verbatim, the
 *                        answer written from JavaScript so its end can wait for the save: what the
 *                        runtime charges for concierge's three subrequests, with no code of ours
 * Per target and round: sequential non-streamed latency, time to first chunk streamed, requests/s
 * at 32 concurrent users, and CPU per request of its process tree (from /proc). Then: history of
 * 10 / 1,000 / 10,000 stored messages, Upstash requests per turn, the floor of one /pipeline and
 * one /multi-exec with a turn's exact commands, bundle size and startup. Writes
 * bench/results/latest.json, bench/results/results.md and bench/results/chart.svg.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { keys } from "../src/redis/keys";
import { percentile, seqP50, sequential, throughput, timed, turnOf, type Sequential } from "./measure";
import { seedRecall } from "./recall-seed";
import { writeReport } from "./report";
import { MOCK_KEY, startBenchStack, turnRequests, UPSTASH_TOKEN } from "./stack";
import { bare, concierge, direct, portkey, ROOT, type Target } from "./targets";

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const TURNS = Number(process.env.BENCH_TURNS ?? 200);
const CONCURRENCY = 32;
/** Indexed messages per user of the recall target (RECALL_MAX_MESSAGES' default). */
const RECALL_MESSAGES = Number(process.env.BENCH_RECALL_MESSAGES ?? 10_000);
const PER_USER = Number(process.env.BENCH_PER_USER ?? 20);
/** BENCH_ONLY=bare_hono,concierge_memory measures just those (for an A/B of one change); the report needs all. */
const ONLY = process.env.BENCH_ONLY?.split(",").map((name) => name.trim());

async function upstash(url: string, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(`${url}${path}`, { method: "POST", headers: { Authorization: `Bearer ${UPSTASH_TOKEN}` }, body: typeof body === "string" ? body : JSON.stringify(body) });
  if (!res.ok) throw new Error(`Upstash ${path}: ${res.status}`);
  return res.json();
}

/** A session holding `count` stored messages, as if that many turns had been saved. */
async function seedSession(url: string, user: string, count: number): Promise<void> {
  const key = keys.session(user, "s");
  const message = (i: number) => JSON.stringify({ role: i % 2 ? "assistant" : "user", content: `message ${i}: ${"what should I pack for a week in Lisbon in spring? ".repeat(2)}` });
  for (let start = 0; start < count; start += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - start) }, (_, i) => message(start + i));
    await upstash(url, "/pipeline", [["RPUSH", key, ...batch]]);
  }
  await upstash(url, "/pipeline", [["SET", keys.appended(user, "s"), String(count)], ["EXPIRE", key, "3600"], ["EXPIRE", keys.appended(user, "s"), "3600"]]);
}

/**
 * Turns before a target is measured, so what is measured is an isolate's steady state: V8 goes on
 * optimizing concierge's bundle for hundreds of turns (CPU per turn falls from ~4.4 to ~3 ms over
 * the first 1,500 here), a one-file worker's within a few.
 */
const WARM_TURNS = Number(process.env.BENCH_WARM ?? 500);

async function warm(target: Target, user: string, turns = WARM_TURNS): Promise<void> {
  for (let i = 0; i < turns; i++) await timed(target, turnOf(user, i, i % 2 === 1));
}

async function main() {
  const stack = await startBenchStack();
  const { store, mock, dist, bindings } = stack;

  // Round trips, and a turn's exact Upstash requests replayed alone: the floor of the latency memory adds.
  const trips = await turnRequests(stack, "bench-trips");
  const perTurn = (path: string) => trips.filter((r) => r.path === path).length / 20;
  // The same for a widget whose turns run in the session's Durable Object.
  const widgetTrips = await turnRequests(stack, "bench-widget-trips", { widget: "resumable" });
  const pipeline = trips.find((r) => r.path === "/pipeline")!;
  const transaction = trips.find((r) => r.path === "/multi-exec")!;

  const targets: Target[] = [
    direct(mock.url, MOCK_KEY),
    await bare(mock.url, MOCK_KEY),
    await concierge("concierge_memory", dist, bindings(store.url)),
    await concierge("concierge_stateless", dist, bindings(store.url), { stateless: true }),
    await concierge("concierge_memory_recall", dist, bindings(store.url), { recall: true }),
    await portkey(mock.url, MOCK_KEY),
    await concierge("concierge_memory_sync_do", dist, bindings(store.url), { syncObjects: true }),
    await bare(mock.url, MOCK_KEY, { upstashUrl: store.url, token: UPSTASH_TOKEN, load: pipeline.body, save: transaction.body }),
    await concierge("concierge_widget", dist, bindings(store.url), { widget: "in-request" }),
    await concierge("concierge_widget_resumable", dist, bindings(store.url), { widget: "resumable" }),
  ];
  const [, , memory] = targets as [Target, Target, Target, ...Target[]];
  if (!ONLY || ONLY.includes("concierge_memory_recall")) {
    // The recall target's users, each with RECALL_MAX_MESSAGES' default of indexed messages; one
    // word in twenty is one of the bench's question's, so each search finds many.
    const users = [...Array.from({ length: ROUNDS }, (_, r) => `bench-concierge_memory_recall-${r}`), ...Array.from({ length: CONCURRENCY }, (_, c) => `concierge_memory_recall-c${c}`)];
    const started = performance.now();
    await seedRecall(store.url, UPSTASH_TOKEN, users, RECALL_MESSAGES, ["pack", "week", "lisbon", "spring"]);
    console.log(`bench: indexed ${RECALL_MESSAGES} messages for each of ${users.length} users in ${Math.round(performance.now() - started)} ms`);
  }
  const stoppers = [() => stack.stop(), ...targets.map((t) => () => t.stop())];

  try {
    const rounds: Array<Record<string, Sequential & { rps: number }>> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const results: Record<string, Sequential & { rps: number }> = {};
      for (const target of targets.filter((t) => !ONLY || ONLY.includes(t.name))) {
        const user = `bench-${target.name}-${round}`;
        await warm(target, user);
        const seq = await sequential(target, user, TURNS, store.pid);
        results[target.name] = { ...seq, rps: await throughput(target, CONCURRENCY, PER_USER) };
        console.log(`bench: round ${round + 1} ${target.name}: ${JSON.stringify(results[target.name])}`);
      }
      rounds.push(results);
    }

    // History stored does not move a turn: the window reads the last messages only.
    const history: Record<string, number> = {};
    for (const stored of [10, 1000, 10_000]) {
      const user = `bench-history-${stored}`;
      await seedSession(store.url, user, stored);
      await warm(memory, `bench-history-warm-${stored}`, 30);
      history[String(stored)] = await seqP50(memory, user, 100);
    }

    const replay = async (path: string, body: string) => {
      const samples: number[] = [];
      for (let i = 0; i < TURNS; i++) {
        const started = performance.now();
        await upstash(store.url, path, body);
        samples.push(performance.now() - started);
      }
      return Number(percentile(samples, 50).toFixed(2));
    };
    const floor = { pipeline_p50_ms: await replay("/pipeline", pipeline.body), multi_exec_p50_ms: await replay("/multi-exec", transaction.body) };

    // A fresh isolate's first turn, then the bundle and what evaluating its main module costs.
    const coldStarted = performance.now();
    const cold = await concierge("concierge_cold", dist, bindings(store.url));
    const readyMs = performance.now() - coldStarted;
    const firstTurn = await timed(cold, turnOf("bench-cold", 0, false));
    await cold.stop();
    const script = (name: string, ...args: string[]) => execFileSync("node", [join(ROOT, "scripts", name), ...args], { cwd: ROOT }).toString().trim();

    const result = {
      schema: 1,
      at: new Date().toISOString(),
      settings: { rounds: ROUNDS, sequential_turns: TURNS, concurrency: CONCURRENCY, turns_per_user_concurrent: PER_USER, window_messages: 19, upstash_backend: store.backend },
      configs: Object.fromEntries(targets.filter((t) => rounds[0]![t.name]).map((t) => [t.name, rounds.map((round) => round[t.name]!)])),
      history_seq_p50_ms: history,
      upstash_requests_per_turn: { load: perTurn("/pipeline"), save: perTurn("/multi-exec"), total: trips.length / 20 },
      upstash_requests_per_widget_turn_resumable: {
        load: widgetTrips.filter((r) => r.path === "/pipeline").length / 20,
        save: widgetTrips.filter((r) => r.path === "/multi-exec").length / 20,
        total: widgetTrips.length / 20,
      },
      upstash_floor: { ...floor, both_ms: Number((floor.pipeline_p50_ms + floor.multi_exec_p50_ms).toFixed(2)) },
      cold_start: { miniflare_ready_ms: Math.round(readyMs), first_turn_ms: Number(firstTurn.total.toFixed(2)), module_evaluation: script("startup-cost.mjs", "dist/index.js") },
      bundle: script("bundle-size.mjs", "dist"),
      cpu_note: "CPU is utime+stime from /proc of each target's process tree: a Miniflare workerd, reached on the worker's own socket and fetching straight out (without the entry worker and CF-Connecting-IP stripper Miniflare adds by default, which production lacks: bench/subrequest-cost.ts), or Portkey's node; upstash_cpu_ms_per_req is the Upstash server's own process.",
    };
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(join(ROOT, "bench", "results", "latest.json"), `${JSON.stringify(result, null, 2)}\n`);
    writeReport(result, join(ROOT, "bench", "results"));
    console.log(JSON.stringify(result, null, 2));
  } finally {
    for (const stop of stoppers.reverse()) await stop().catch(() => {});
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
