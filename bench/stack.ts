/**
 * What every concierge target of the bench runs against, started once: redis-server (when
 * installed) behind our Upstash server in a process of its own, the mock model, the Cosmos
 * emulator, a counting proxy in front of Upstash, and the deploy bundle. Also a memory turn's
 * exact Upstash requests, as concierge sends them.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import { startCosmosEmulator } from "../dev/cosmos/emulator";
import { requestDetailsThrough, startFaultProxy, type RecordedRequest } from "../dev/fault-proxy";
import { startMockLlm } from "../dev/mock-llm/server";
import { startRedisServer } from "../dev/redis-server";
import { timed, turnOf } from "./measure";
import { buildConcierge, concierge, ROOT } from "./targets";

export const UPSTASH_TOKEN = "bench-token";
export const MOCK_KEY = "sk-bench-upstream";
const API_KEY = "sk-bench";

async function startUpstash(redisUrl: string | undefined): Promise<{ url: string; backend: string; pid: number; stop(): void }> {
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "bench", "upstash-process.ts")], {
    cwd: ROOT,
    env: { ...process.env, UPSTASH_TOKEN, REDIS_URL: redisUrl ?? "" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve);
    child.once("exit", (code) => reject(new Error(`the Upstash server exited (${code})`)));
  });
  const { url, backend } = JSON.parse(line) as { url: string; backend: string };
  return { url, backend, pid: child.pid!, stop: () => child.kill() };
}

export async function startBenchStack() {
  let redis: Awaited<ReturnType<typeof startRedisServer>> | undefined;
  try {
    redis = await startRedisServer();
  } catch {
    console.log("bench: no redis-server here; the Upstash server runs on its in-memory backend");
  }
  const store = await startUpstash(redis?.url);
  const mock = await startMockLlm({ apiKey: MOCK_KEY });
  const cosmos = await startCosmosEmulator({ database: "agent-db", container: "user-memory" });
  const counter = await startFaultProxy(store.url);
  const dist = buildConcierge();
  /** A concierge target's bindings, its Upstash at `upstashUrl` (the store, or the counter in front of it). */
  const bindings = (upstashUrl: string) => ({
    PROXY_API_KEYS: API_KEY,
    OPENAI_BASE_URL: mock.url,
    OPENAI_API_KEY: MOCK_KEY,
    DEFAULT_MODEL: "mock-small",
    UPSTASH_REDIS_REST_URL: upstashUrl,
    UPSTASH_REDIS_REST_TOKEN: UPSTASH_TOKEN,
    COSMOS_ENDPOINT: cosmos.endpoint,
    COSMOS_KEY: cosmos.key,
    // Checked on every turn (its cost is part of the numbers), never reached.
    RATE_LIMIT_REQUESTS: "1000000",
    HISTORY_MAX_STORED: "10000",
  });
  const stop = async () => {
    for (const close of [() => counter.close(), () => cosmos.close(), () => mock.close(), async () => store.stop(), async () => redis?.stop()]) await close().catch(() => {});
  };
  return { store, mock, cosmos, counter, dist, bindings, stop };
}

export type BenchStack = Awaited<ReturnType<typeof startBenchStack>>;

/**
 * The Upstash requests of 20 memory turns of one user (every other one streamed), as they reached
 * the counting proxy, from a target of `options`' kind.
 */
export async function turnRequests(stack: BenchStack, user: string, options: Parameters<typeof concierge>[3] = {}): Promise<RecordedRequest[]> {
  const counted = await concierge(`${user}_counted`, stack.dist, stack.bindings(stack.counter.url), options);
  try {
    // Another user's turn first: on a fresh Redis the rate limiter's first EVALSHA meets NOSCRIPT and
    // sends the script again, a request no later turn makes.
    await timed(counted, turnOf(`${user}-warm`, 0, false));
    for (let i = 0; i < 21; i++) await timed(counted, turnOf(user, i, i % 2 === 1));
    return (await requestDetailsThrough(stack.counter.url, `{${user}}`)).slice(2); // the first turn also reads Cosmos' miss
  } finally {
    await counted.stop();
  }
}
