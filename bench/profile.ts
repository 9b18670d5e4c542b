/**
 * `npx tsx bench/profile.ts`: where a turn's CPU goes inside the isolate, apart from the runtime.
 * Runs an unminified build under Miniflare with the inspector on, profiles TURNS turns with memory
 * on (streamed and not), and prints self time by bundled package and by function. The bundle's
 * `// node_modules/...` and `// src/...` markers say which lines belong to which module. Console
 * calls are counted apart: only the attached inspector makes them cost anything. The whole profile
 * is saved for DevTools (bench/.cache/turns.cpuprofile).
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Miniflare } from "miniflare";
import WebSocket from "ws";
import { startCosmosEmulator } from "../dev/cosmos/emulator";
import { startMockLlm } from "../dev/mock-llm/server";
import { freePort } from "../dev/ports";
import { startUpstashServer } from "../dev/upstash/server";
import { startRedisServer } from "../dev/redis-server";
import { timed, turnOf } from "./measure";
import { ROOT } from "./targets";

const TURNS = Number(process.env.BENCH_TURNS ?? 300);

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

function moduleOfLine(bundle: string): (line: number) => string {
  const marks: Array<{ line: number; name: string }> = [];
  bundle.split("\n").forEach((text, line) => {
    const match = text.match(/^\/\/ ((?:node_modules|src)\/\S+)/);
    if (match) marks.push({ line, name: match[1]!.replace(/^node_modules\/((?:@[^/]+\/)?[^/]+).*/, "$1").replace(/^src\/([^/]+).*/, "src/$1") });
  });
  return (line) => {
    let name = "(bundle)";
    for (const mark of marks) {
      if (mark.line > line) break;
      name = mark.name;
    }
    return name;
  };
}

async function main() {
  const out = join(ROOT, "bench", ".cache", "profile-build");
  execFileSync(join(ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--env", "production", "--outdir", out, "--minify=false"], { cwd: ROOT, stdio: "ignore", env: { ...process.env, WRANGLER_SEND_METRICS: "false" } });
  const redis = await startRedisServer().catch(() => undefined);
  const upstash = await startUpstashServer({ token: "t", redisUrl: redis?.url });
  const mock = await startMockLlm({ apiKey: "k" });
  const cosmos = await startCosmosEmulator({ database: "agent-db", container: "user-memory" });
  const inspectorPort = await freePort();
  const mf = new Miniflare({
    modules: [{ type: "ESModule", path: join(out, "index.js") }, { type: "ESModule", path: join(out, "vendor", "azure-cosmos.mjs") }],
    modulesRoot: out,
    compatibilityDate: "2026-04-20",
    compatibilityFlags: ["nodejs_compat", "enable_request_signal"],
    bindings: { PROXY_API_KEYS: "sk", OPENAI_BASE_URL: mock.url, OPENAI_API_KEY: "k", UPSTASH_REDIS_REST_URL: upstash.url, UPSTASH_REDIS_REST_TOKEN: "t", COSMOS_ENDPOINT: cosmos.endpoint, COSMOS_KEY: cosmos.key, RATE_LIMIT_REQUESTS: "1000000" },
    inspectorPort,
    host: "127.0.0.1",
    port: await freePort(),
    handleRuntimeStdio: (stdout: Readable, stderr: Readable) => (stdout.resume(), stderr.resume()),
  });
  const url = String(await mf.ready).replace(/\/$/, "");
  const target = {
    name: "profiled",
    url: `${url}/v1/chat/completions`,
    pid: undefined,
    request: (turn: ReturnType<typeof turnOf>) => ({
      headers: { Authorization: "Bearer sk", "Content-Type": "application/json", "X-User-Id": turn.user, "X-Session-Id": "s" },
      body: JSON.stringify({ model: "mock-small", stream: turn.stream, messages: [{ role: "user", content: turn.text }] }),
    }),
    stop: async () => {},
  };
  for (let i = 0; i < 40; i++) await timed(target, turnOf("profile", i, i % 2 === 1));

  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json()) as Array<{ webSocketDebuggerUrl: string; title: string }>;
  const core = targets.find((t) => !t.title.includes("miniflare")) ?? targets[0]!;
  const socket = new WebSocket(core.webSocketDebuggerUrl);
  await new Promise((resolve) => socket.once("open", resolve));
  let next = 1;
  const pending = new Map<number, (result: unknown) => void>();
  socket.on("message", (data) => {
    const message = JSON.parse(String(data)) as { id?: number; result?: unknown };
    if (message.id) pending.get(message.id)?.(message.result);
  });
  const send = (method: string, params: object = {}) =>
    new Promise<unknown>((resolve) => {
      const id = next++;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 100 });
  await send("Profiler.start");
  for (let i = 0; i < TURNS; i++) await timed(target, turnOf("profile", i, i % 2 === 1));
  const { profile } = (await send("Profiler.stop")) as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } };
  socket.close();
  // For DevTools' Performance panel (Load profile), or for a closer look than the summary below.
  const saved = join(ROOT, "bench", ".cache", "turns.cpuprofile");
  writeFileSync(saved, JSON.stringify(profile));

  const moduleOf = moduleOfLine(readFileSync(join(out, "index.js"), "utf8"));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parentOf = new Map<number, ProfileNode>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node);
  // A console call is cheap in workerd, but with an inspector attached V8 keeps every line for it
  // (~0.4 ms a turn here, ~0 without: measured under Miniflare), so that time is the profiler's.
  const inConsole = (id: number) => {
    const caller = parentOf.get(id)?.callFrame;
    return !byId.get(id)!.callFrame.url && caller?.functionName === "log" && moduleOf(caller.lineNumber) === "src/http";
  };
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const byModule = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let total = 0;
  let js = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)!.callFrame;
    total += us;
    if (frame.functionName === "(idle)" || frame.functionName === "(program)" || frame.functionName === "(garbage collector)") {
      byModule.set(frame.functionName, (byModule.get(frame.functionName) ?? 0) + us);
      continue;
    }
    if (inConsole(id)) {
      byModule.set("(console, inspector only)", (byModule.get("(console, inspector only)") ?? 0) + us);
      continue;
    }
    js += us;
    const module = frame.url.endsWith("index.js") ? moduleOf(frame.lineNumber) : frame.url || "(native)";
    byModule.set(module, (byModule.get(module) ?? 0) + us);
    const name = `${frame.functionName || "(anonymous)"} ${module}:${frame.lineNumber}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + us);
  }
  const per = (us: number) => `${(us / TURNS / 1000).toFixed(3)} ms/turn`;
  console.log(`profile: ${TURNS} turns; JS ${per(js)} (of ${per(total)} sampled, idle included)`);
  for (const [name, us] of [...byModule].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${name.padEnd(40)} ${per(us)}  ${((100 * us) / js).toFixed(1)}%`);
  console.log("top functions:");
  for (const [name, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${name.slice(0, 90).padEnd(90)} ${per(us)}`);

  console.log(`the whole profile: ${saved}`);
  await mf.dispose();
  await cosmos.close();
  await mock.close();
  await upstash.close();
  await redis?.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
