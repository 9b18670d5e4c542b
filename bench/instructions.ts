/**
 * `npx tsx bench/instructions.ts`: CPU per turn as instructions, counted by valgrind's callgrind
 * in the workerd process, for the configs whose difference is concierge's own code: bare_hono,
 * bare_hono_3_fetches (the runtime's floor under a turn with memory), concierge_memory and
 * concierge_stateless. CPU time swings by tens of percent between runs on a shared machine; an
 * instruction count does not depend on what else the machine is doing. The process runs ~50x
 * slower under valgrind, so this counts fewer turns (BENCH_TURNS, 100 by default; every other one
 * streamed) and no concurrency. What it counts is the whole workerd process: the runtime's HTTP,
 * streams and event loop as well as the JIT's code. Each config's count is the median of five
 * windows of 20 turns, after 800 turns of warm-up (after 200, V8 was still compiling the bundle
 * and ran part of it in its baseline tier): under valgrind, work the runtime does by the clock (a
 * GC of the whole heap, for one) falls on every 50th as many turns, and lands whole in one
 * window. bare_hono's counts repeat to within 0.1%; a window of bare_hono_3_fetches counts 2.9 or
 * 3.3M a turn, by whether a young-generation scavenge falls in it. After only 200 warm turns,
 * concierge's medians fell in one of two modes ~15% apart from one isolate to the next (in the
 * slower, more of the bundle still ran in V8's baseline tier). Each config's median window is also
 * split by kind of work (bench/callgrind.ts). Needs valgrind (Debian's package); 7 to 19 minutes;
 * writes bench/results/instructions.json.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { instructionsByKind, KINDS, type Kind } from "./callgrind";
import { percentile, timed, turnOf } from "./measure";
import { treeOf } from "./proc";
import { MOCK_KEY, startBenchStack, turnRequests, UPSTASH_TOKEN } from "./stack";
import { bare, CACHE, concierge, ROOT, type Target } from "./targets";

const TURNS = Number(process.env.BENCH_TURNS ?? 100);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
const WARM = Number(process.env.BENCH_WARM ?? 800);
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

/** Instructions since the previous dump, and the dump's number: callgrind writes a new part of its profile on each. */
function dump(pid: number): { instructions: number; part: number } {
  execFileSync("callgrind_control", ["--dump", String(pid)], { stdio: "ignore" });
  const parts = readdirSync(OUT)
    .map((name) => name.match(new RegExp(`^${pid}\\.out\\.(\\d+)$`)))
    .filter((match) => match !== null)
    .sort((a, b) => Number(b[1]) - Number(a[1]));
  const text = readFileSync(join(OUT, parts[0]![0]), "utf8");
  return { instructions: Number(text.match(/^summary: (\d+)$/m)![1]), part: Number(parts[0]![1]) };
}

interface Count {
  perTurn: number;
  /** The median window's instructions per turn, by kind of work. */
  byKind: Record<Kind, number>;
}

async function count(start: () => Promise<Target>): Promise<Count> {
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
    const windows: Array<{ perTurn: number; part: number }> = [];
    for (let window = 0; window < WINDOWS; window++) {
      for (let i = 0; i < TURNS / WINDOWS; i++) await timed(target, turnOf(user, WARM + window * (TURNS / WINDOWS) + i, i % 2 === 1));
      const { instructions, part } = dump(pid);
      windows.push({ perTurn: instructions / (TURNS / WINDOWS), part });
    }
    console.log(`instructions: ${target.name} windows: ${windows.map((w) => Math.round(w.perTurn / 1000)).join(" ")} k`);
    const perTurn = percentile(windows.map((w) => w.perTurn), 50);
    const median = windows.find((w) => w.perTurn === perTurn)!;
    const byKind = instructionsByKind(join(OUT, String(pid)), median.part);
    for (const kind of KINDS) byKind[kind] = Math.round(byKind[kind] / (TURNS / WINDOWS));
    return { perTurn: Math.round(perTurn), byKind };
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
    const rounds: Array<Record<string, Count>> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const counts: Record<string, Count> = {};
      for (const [name, start] of Object.entries(configs).filter(([name]) => !ONLY || ONLY.includes(name))) {
        counts[name] = await count(start);
        console.log(`instructions: round ${round + 1} ${name}: ${counts[name].perTurn} per turn`);
      }
      rounds.push(counts);
    }
    const compared = rounds.filter((counts) => counts.concierge_memory && counts.bare_hono_3_fetches);
    const overFloor = ({ concierge_memory: memory, bare_hono_3_fetches: floor }: Record<string, Count>) =>
      Object.fromEntries(KINDS.map((kind) => [kind, memory!.byKind[kind] - floor!.byKind[kind]]));
    const result = {
      at: new Date().toISOString(),
      turns: TURNS,
      note: "Instructions per turn of the workerd process (callgrind), every other turn streamed; memory_over_floor is concierge_memory minus bare_hono_3_fetches: what concierge's code and its SDKs add. by_kind splits the median window by kind of work (bench/callgrind.ts).",
      instructions_per_turn: rounds.map((counts) => Object.fromEntries(Object.entries(counts).map(([name, c]) => [name, c.perTurn]))),
      memory_over_floor: compared.map((counts) => counts.concierge_memory!.perTurn - counts.bare_hono_3_fetches!.perTurn),
      memory_over_floor_by_kind: compared.map(overFloor),
      by_kind: rounds.map((counts) => Object.fromEntries(Object.entries(counts).map(([name, c]) => [name, c.byKind]))),
    };
    mkdirSync(join(ROOT, "bench", "results"), { recursive: true });
    writeFileSync(join(ROOT, "bench", "results", "instructions.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result.instructions_per_turn, null, 2));
    for (const [round, kinds] of result.memory_over_floor_by_kind.entries()) {
      console.log(`round ${round + 1}, concierge_memory over bare_hono_3_fetches, instructions per turn:`);
      for (const [kind, n] of Object.entries(kinds)) console.log(`  ${kind.padEnd(45)} ${n.toLocaleString("en").padStart(10)}`);
    }
  } finally {
    await stack.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
