/**
 * `npx tsx bench/instructions.ts`: CPU per turn as instructions, counted by valgrind's callgrind
 * in the workerd process, for the configs whose difference is concierge's own code: bare_hono,
 * bare_hono_3_fetches (the runtime's floor under a turn with memory), concierge_memory and
 * concierge_stateless. CPU time swings by tens of percent between runs on a shared machine; an
 * instruction count does not depend on what else the machine is doing. The process runs ~50x slower under valgrind, so this counts fewer
 * turns (BENCH_TURNS, 100 by default; every other one streamed) and no concurrency. What it counts
 * is the whole workerd process: the runtime's HTTP, streams and event loop as well as the JIT's
 * code. Each config's count is the median of five windows of 20 turns, after 200 turns of warm-up
 * (V8 optimizes the bundle for that long): under valgrind, work the runtime does by the clock (a
 * GC of the whole heap, for one) falls on every 50th as many turns, and lands whole in one
 * window. The bare workers' counts repeat to within 0.1%; concierge's fall in one of two modes
 * ~13% apart from one isolate to the next (V8's optimization taking one of two courses, it seems),
 * so an A/B compares several runs. Needs valgrind (Debian's package); writes
 * bench/results/instructions.json.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { percentile, timed, turnOf } from "./measure";
import { treeOf } from "./proc";
import { MOCK_KEY, startBenchStack, turnRequests, UPSTASH_TOKEN } from "./stack";
import { bare, CACHE, concierge, ROOT, type Target } from "./targets";

const TURNS = Number(process.env.BENCH_TURNS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARM = Number(process.env.BENCH_WARM ?? 200);
const ONLY = process.env.BENCH_ONLY?.split(",").map((name) => name.trim());
const WINDOWS = 5;
const OUT = join(CACHE, "callgrind");

/** The workerd binary Miniflare starts (the package's default export is its path). */
const workerd = (createRequire(import.meta.url)("workerd") as { default: string }).default;

/** A stand-in for the workerd binary that Miniflare starts (MINIFLARE_WORKERD_PATH): the same, under callgrind. */
function valgrindWorkerd(): string {
  const script = join(CACHE, "callgrind-workerd.sh");
  // JIT code is written and rewritten in place: --smc-check makes valgrind notice.
  writeFileSync(script, `#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=${OUT}/%p.out --smc-check=all-non-file --log-file=${OUT}/%p.log ${workerd} "$@"\n`);
  chmodSync(script, 0o755);
  return script;
}

const underValgrind = (pid: number) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("valgrind");
  } catch {
    return false;
  }
};

/** Instructions since the previous dump: callgrind writes a new part of its profile on each. */
function dump(pid: number): number {
  execFileSync("callgrind_control", ["--dump", String(pid)], { stdio: "ignore" });
  const parts = readdirSync(OUT)
    .map((name) => name.match(new RegExp(`^${pid}\\.out\\.(\\d+)$`)))
    .filter((match) => match !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]));
  const text = readFileSync(join(OUT, parts[0]![0]), "utf8");
  return Number(text.match(/^summary: (\d+)$/m)![1]);
}

async function count(start: () => Promise<Target>): Promise<number> {
  const before = new Set(treeOf(process.pid));
  const target = await start();
  try {
    const pid = treeOf(process.pid).find((p) => !before.has(p) && underValgrind(p));
    if (pid === undefined) throw new Error("no workerd under valgrind was found");
    const user = `instructions-${target.name}-${Date.now()}`;
    for (let i = 0; i < WARM; i++) await timed(target, turnOf(user, i, i % 2 === 1));
    dump(pid);
    // The median of several windows: a major GC or a JIT compilation of the bundle's larger
    // functions (millions of instructions) lands in one window or another, not in all.
    const perTurn: number[] = [];
    for (let window = 0; window < WINDOWS; window++) {
      for (let i = 0; i < TURNS / WINDOWS; i++) await timed(target, turnOf(user, WARM + window * (TURNS / WINDOWS) + i, i % 2 === 1));
      perTurn.push(dump(pid) / (TURNS / WINDOWS));
    }
    console.log(`instructions: ${target.name} windows: ${perTurn.map((n) => Math.round(n / 1000)).join(" ")} k`);
    return Math.round(percentile(perTurn, 50));
  } finally {
    await target.stop();
  }
}

async function main() {
  execFileSync("valgrind", ["--version"], { stdio: "ignore" });
  const stack = await startBenchStack();
  try {
    const trips = await turnRequests(stack, "instructions-trips");
    const load = trips.find((r) => r.path === "/pipeline")!.body;
    const save = trips.find((r) => r.path === "/multi-exec")!.body;
    const { dist, mock, store } = stack;
    // Everything runs ~50x slower under valgrind: with the usual 2 s for Redis and 1.5 s for Cosmos,
    // a slow read would time out, and the turn would count the work of a degraded one (a profile
    // not cached, so read from Cosmos again the next turn).
    const bindings = (url: string) => ({ ...stack.bindings(url), REDIS_TIMEOUT_MS: "60000", COSMOS_TIMEOUT_MS: "60000" });
    const configs: Record<string, () => Promise<Target>> = {
      bare_hono: () => bare(mock.url, MOCK_KEY),
      bare_hono_3_fetches: () => bare(mock.url, MOCK_KEY, { upstashUrl: store.url, token: UPSTASH_TOKEN, load, save }),
      concierge_memory: () => concierge("concierge_memory", dist, bindings(store.url)),
      concierge_stateless: () => concierge("concierge_stateless", dist, bindings(store.url), { stateless: true }),
    };
    if (existsSync(OUT)) rmSync(OUT, { recursive: true });
    mkdirSync(OUT, { recursive: true });
    process.env.MINIFLARE_WORKERD_PATH = valgrindWorkerd();
    const rounds: Array<Record<string, number>> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const counts: Record<string, number> = {};
      for (const [name, start] of Object.entries(configs).filter(([name]) => !ONLY || ONLY.includes(name))) {
        counts[name] = await count(start);
        console.log(`instructions: round ${round + 1} ${name}: ${counts[name]} per turn`);
      }
      rounds.push(counts);
    }
    const result = {
      at: new Date().toISOString(),
      turns: TURNS,
      note: "Instructions per turn of the workerd process (callgrind), every other turn streamed; memory_over_floor is concierge_memory minus bare_hono_3_fetches: what concierge's code and its SDKs add.",
      instructions_per_turn: rounds,
      memory_over_floor: rounds.map((counts) => counts.concierge_memory! - counts.bare_hono_3_fetches!),
    };
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(join(ROOT, "bench", "results", "instructions.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
