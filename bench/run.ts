/**
 * `npm run bench`: what a turn costs. Starts the real local stack (redis-server when installed,
 * else in-memory; the mock model with no latency) and measures, through real HTTP:
 *   - the proxy's added latency over calling the model directly (non-streamed and streamed),
 *   - Upstash requests per turn (counted by a pass-through proxy),
 *   - throughput with concurrent sessions,
 *   - CPU of the worker's pure per-request work (parse, window, relay), in-process,
 *   - the deploy bundle size, and what parsing its main module costs an isolate at startup.
 * Numbers go to stdout and bench/results/latest.json. Compare runs on the same machine only.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { requestsThrough, startFaultProxy } from "../dev/fault-proxy";
import { freePort } from "../dev/ports";
import { startRedisServer } from "../dev/redis-server";
import { startStack } from "../dev/stack";
import { startUpstashServer } from "../dev/upstash/server";
import { measureCpu } from "./cpu";

const TURNS = Number(process.env.BENCH_TURNS ?? 200);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 20);

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const summary = (samples: number[]) => ({
  p50: Number(percentile(samples, 50).toFixed(2)),
  p95: Number(percentile(samples, 95).toFixed(2)),
  p99: Number(percentile(samples, 99).toFixed(2)),
});

async function timed(request: () => Promise<Response>): Promise<{ total: number; firstByte: number }> {
  const started = performance.now();
  const res = await request();
  const reader = res.body!.getReader();
  let firstByte = 0;
  for (;;) {
    const { done } = await reader.read();
    if (!firstByte) firstByte = performance.now() - started;
    if (done) break;
  }
  if (!res.ok) throw new Error(`bench request failed: ${res.status}`);
  return { total: performance.now() - started, firstByte };
}

async function main() {
  let redis: Awaited<ReturnType<typeof startRedisServer>> | undefined;
  try {
    redis = await startRedisServer();
  } catch {
    console.log("bench: no redis-server here; using the in-memory backend");
  }
  const token = "bench-token";
  const upstash = await startUpstashServer({ token, redisUrl: redis?.url });
  const counter = await startFaultProxy(upstash.url);
  const stack = await startStack({
    devVars: false,
    workerOutput: false,
    env: {
      PORT: String(await freePort()),
      UPSTASH_REDIS_REST_URL: counter.url,
      UPSTASH_REDIS_REST_TOKEN: token,
      // The limit is checked on every turn (its cost is part of the numbers) but never reached.
      RATE_LIMIT_REQUESTS: "1000000",
      PATH: process.env.PATH,
    },
  });

  try {
    const modelUrl = `${stack.upstream.url}/chat/completions`;
    const modelHeaders = { Authorization: `Bearer ${stack.vars.OPENAI_API_KEY}`, "Content-Type": "application/json" };
    const proxyHeaders = (user: string, session: string) => ({
      Authorization: `Bearer ${stack.apiKey}`,
      "Content-Type": "application/json",
      "X-User-Id": user,
      "X-Session-Id": session,
    });
    const body = (stream: boolean, text: string, messages: unknown[] = []) =>
      JSON.stringify({ model: "mock-small", stream, messages: [...messages, { role: "user", content: text }] });

    // Warm both paths (isolate start, connection pools).
    for (let i = 0; i < 20; i++) {
      await timed(() => fetch(`${stack.url}/v1/chat/completions`, { method: "POST", headers: proxyHeaders("warm", "w"), body: body(false, "warm") }));
    }

    const results: Record<string, unknown> = { turns: TURNS, backend: upstash.backend };
    for (const stream of [false, true]) {
      const direct: number[] = [];
      const proxied: number[] = [];
      const proxiedFirstByte: number[] = [];
      // A session whose window is full (19 stored messages loaded every turn), as in steady use.
      const user = `bench-${stream ? "stream" : "plain"}`;
      for (let i = 0; i < TURNS; i++) {
        const text = `turn ${i}: what should I pack for a week in Lisbon in spring?`;
        const history = Array.from({ length: 19 }, (_, j) => ({ role: j % 2 ? "assistant" : "user", content: text }));
        direct.push((await timed(() => fetch(modelUrl, { method: "POST", headers: modelHeaders, body: body(stream, text, history) }))).total);
        const through = await timed(() => fetch(`${stack.url}/v1/chat/completions`, { method: "POST", headers: proxyHeaders(user, "s"), body: body(stream, text) }));
        proxied.push(through.total);
        proxiedFirstByte.push(through.firstByte);
      }
      const overhead = proxied.map((t, i) => t - direct[i]!);
      results[stream ? "streamed" : "non_streamed"] = {
        direct_ms: summary(direct),
        proxy_ms: summary(proxied),
        proxy_first_byte_ms: summary(proxiedFirstByte),
        added_ms: summary(overhead),
      };
    }

    const trips = await requestsThrough(counter.url, "{bench-plain}");
    results.upstash_requests_per_turn = {
      load: trips.filter((p) => p === "/pipeline").length / TURNS,
      save: trips.filter((p) => p === "/multi-exec").length / TURNS,
      total: trips.length / TURNS,
    };

    const started = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, c) => {
        for (let i = 0; i < 20; i++) {
          await timed(() =>
            fetch(`${stack.url}/v1/chat/completions`, { method: "POST", headers: proxyHeaders(`bench-c${c}`, "s"), body: body(true, `concurrent ${i}`) }),
          );
        }
      }),
    );
    results.throughput_turns_per_s = Number(((CONCURRENCY * 20) / ((performance.now() - started) / 1000)).toFixed(1));
    results.cpu_us_per_turn = measureCpu();

    execFileSync(join(import.meta.dirname, "..", "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--env", "production", "--outdir", "dist"], {
      cwd: join(import.meta.dirname, ".."),
      stdio: "ignore",
      env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
    });
    const script = (name: string, ...args: string[]) =>
      execFileSync("node", [join(import.meta.dirname, "..", "scripts", name), ...args], { cwd: join(import.meta.dirname, "..") })
        .toString()
        .trim();
    results.bundle = script("bundle-size.mjs", "dist");
    results.startup = script("startup-cost.mjs", "dist/index.js");

    console.log(JSON.stringify(results, null, 2));
    mkdirSync(join(import.meta.dirname, "results"), { recursive: true });
    writeFileSync(join(import.meta.dirname, "results", "latest.json"), `${JSON.stringify({ at: new Date().toISOString(), ...results }, null, 2)}\n`);
  } finally {
    await stack.stop();
    await counter.close();
    await upstash.close();
    await redis?.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
