import { execFile, spawn, type ChildProcess } from "node:child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { CONFIG_NAMES } from "../src/config";
import { startCosmosEmulator } from "./cosmos/emulator";
import { startMockLlm, type MockLlm } from "./mock-llm/server";
import { startUpstashServer, type UpstashServer } from "./upstash/server";
import { freePort, portIsFree } from "./ports";
import { writeDevWranglerConfig } from "./wrangler-dev-config";

const ROOT = resolve(import.meta.dirname, "..");
const WORKER_PROCESS = join(ROOT, "dev", "worker-process.ts");
const WRANGLER = join(ROOT, "node_modules", ".bin", "wrangler");

export const DEV_API_KEY = "sk-concierge-dev";
/** Signs the demo's widget tokens locally; any real deployment sets its own (wrangler secret put). */
const DEV_JWT_SECRET = "dev-only-jwt-secret-for-npm-run-dev-0000";
const DEMO_USER = "demo-user";
const DEV_UPSTASH_TOKEN = "dev-upstash-token";
const MOCK_UPSTREAM_KEY = "sk-mock-upstream";

export interface StackOptions {
  /** Where settings come from; process.env by default. It wins over .dev.vars, which wins over the stack's defaults. */
  env?: Record<string, string | undefined>;
  /** Settings the stack starts with unless .dev.vars or the environment set them. */
  defaults?: Record<string, string>;
  /** Read .dev.vars from the project root (default true; tests turn it off to be reproducible). */
  devVars?: boolean;
  /** Print the worker's own output (default true). */
  workerOutput?: boolean;
  /** Also append the worker's output to this file (tests read what the worker logged). */
  workerLogFile?: string;
  /** Run the worker with `wrangler dev`'s CLI (inspector on, ~2.5 ms a subrequest) instead of its API: the test stacks do. */
  cli?: boolean;
  /** Top-level wrangler settings to run the worker with instead of wrangler.toml's (a test's name and bindings). */
  wrangler?: Record<string, unknown>;
}

export interface Stack {
  /** The worker, e.g. http://127.0.0.1:8787 */
  url: string;
  apiKey: string;
  upstash: { url: string; token: string; backend: string };
  upstream: { url: string; mock: boolean };
  cosmos: { endpoint: string; emulator: boolean };
  /** The demo page with a fresh widget token for `demo-user` in its fragment (when JWT_SECRET is set). */
  demoUrl: string | undefined;
  /** Everything the worker was started with (secrets included: for tests and the banner). */
  vars: Record<string, string>;
  /** The worker's output so far, for diagnosing a failed start. */
  workerLog(): string;
  stop(): Promise<void>;
}

/** KEY=value lines, as in .dev.vars; quotes around a value are removed. */
export function parseDotenv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const match = line.match(/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/);
    if (!match) continue;
    vars[match[1]!] = match[2]!.replace(/^(['"])(.*)\1$/, "$2");
  }
  return vars;
}

function serializeDotenv(vars: Record<string, string>): string {
  return Object.entries(vars)
    .map(([key, value]) => `${key}=${JSON.stringify(value)}`)
    .join("\n");
}

async function waitForWorker(url: string, child: ChildProcess, log: () => string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited with code ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(2000) });
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`wrangler dev did not become ready within ${timeoutMs} ms:\n${log()}`);
}

/**
 * The worker's port: PORT if set (refused by name if something already listens there), else 8787,
 * or any free port when 8787 is taken. Without the check, a stack whose worker could not bind would
 * find another stack's worker answering its health check and report that one as its own.
 */
async function workerPort(asked: string | undefined): Promise<number> {
  if (asked) {
    const port = Number(asked);
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new Error(`PORT must be a port number (1 to 65535), not '${asked}'.`);
    if (!(await portIsFree(port))) throw new Error(`PORT ${port} is in use: stop what listens there, or choose another PORT.`);
    return port;
  }
  return (await portIsFree(8787)) ? 8787 : freePort();
}

/** Mints a widget token for the demo user, the way a site's backend would, and puts it in the demo's link. */
async function demoLink(url: string, apiKey: string): Promise<string | undefined> {
  const res = await fetch(`${url}/v1/tokens`, {
    method: "POST",
    headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" },
    body: JSON.stringify({ user: DEMO_USER, ttl_seconds: 86_400 }),
  });
  if (!res.ok) return undefined;
  const { token } = (await res.json()) as { token: string };
  return `${url}/#token=${token}`;
}

/**
 * The whole local stack on loopback: our Upstash REST server (over REDIS_URL's redis-server, or
 * in memory), the Cosmos DB emulator (unless COSMOS_ENDPOINT names a real account), the mock model
 * (unless OPENAI_BASE_URL points at a real one), and `wrangler dev` running the worker against
 * them. Nothing here needs a cloud account.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const fileVars = options.devVars === false || !existsSync(join(ROOT, ".dev.vars")) ? {} : parseDotenv(readFileSync(join(ROOT, ".dev.vars"), "utf8"));
  const given = { ...fileVars, ...Object.fromEntries(Object.entries(options.env ?? process.env).filter(([, v]) => v !== undefined && v !== "")) } as Record<string, string>;

  // First, so a port already taken fails the start before anything else is running.
  const port = await workerPort(given.PORT);
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const stopper of stoppers.reverse()) await stopper().catch(() => {});
  };

  try {
    let upstash: Stack["upstash"];
    if (given.UPSTASH_REDIS_REST_URL) {
      upstash = { url: given.UPSTASH_REDIS_REST_URL, token: given.UPSTASH_REDIS_REST_TOKEN ?? "", backend: "external" };
    } else {
      const server: UpstashServer = await startUpstashServer({
        token: DEV_UPSTASH_TOKEN,
        redisUrl: given.REDIS_URL,
        replicaLagMs: Number(given.UPSTASH_DEV_REPLICA_LAG_MS ?? 0),
      });
      stoppers.push(() => server.close());
      upstash = { url: server.url, token: DEV_UPSTASH_TOKEN, backend: server.backend };
    }

    let mock: MockLlm | undefined;
    if (!given.OPENAI_BASE_URL) {
      mock = await startMockLlm({
        apiKey: MOCK_UPSTREAM_KEY,
        latencyMs: Number(given.MOCK_LATENCY_MS ?? 0),
        chunkDelayMs: Number(given.MOCK_CHUNK_DELAY_MS ?? 0),
      });
      const started = mock;
      stoppers.push(() => started.close());
    }

    let cosmos: Stack["cosmos"];
    const cosmosVars: Record<string, string> = {};
    if (given.COSMOS_ENDPOINT) {
      cosmos = { endpoint: given.COSMOS_ENDPOINT, emulator: false };
    } else {
      const emulator = await startCosmosEmulator({ database: given.COSMOS_DATABASE ?? "agent-db", container: given.COSMOS_CONTAINER ?? "user-memory" });
      stoppers.push(() => emulator.close());
      cosmos = { endpoint: emulator.endpoint, emulator: true };
      Object.assign(cosmosVars, { COSMOS_ENDPOINT: emulator.endpoint, COSMOS_KEY: emulator.key });
    }

    const vars: Record<string, string> = {
      PROXY_API_KEYS: DEV_API_KEY,
      JWT_SECRET: DEV_JWT_SECRET,
      ...(mock ? { DEFAULT_MODEL: "mock-small" } : {}),
      ...options.defaults,
      ...Object.fromEntries(CONFIG_NAMES.filter((name) => given[name] !== undefined).map((name) => [name, given[name]!])),
      UPSTASH_REDIS_REST_URL: upstash.url,
      UPSTASH_REDIS_REST_TOKEN: upstash.token,
      OPENAI_BASE_URL: mock ? mock.url : given.OPENAI_BASE_URL!,
      ...(mock ? { OPENAI_API_KEY: MOCK_UPSTREAM_KEY } : {}),
      ...cosmosVars,
    };

    // wrangler reads secrets from a file, not the command line, so they never show in `ps`.
    const dir = mkdtempSync(join(tmpdir(), `concierge-${port}-`));
    stoppers.push(async () => rmSync(dir, { recursive: true, force: true }));
    const envFile = join(dir, "worker.env");
    writeFileSync(envFile, serializeDotenv(vars), { mode: 0o600 });
    // wrangler runs the worker from a config without [build] (see wrangler-dev-config.ts), so the
    // module that build makes is built here.
    await promisify(execFile)(process.execPath, [join(ROOT, "scripts", "build-vendor.mjs")], { cwd: ROOT });
    const config = await writeDevWranglerConfig(ROOT, dir, options.wrangler);

    const url = `http://127.0.0.1:${port}`;
    let log = "";
    const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", FORCE_COLOR: "0" };
    // npm run dev: wrangler dev through its API, with the inspector off (dev/worker-process.ts
    // says why). The test stacks keep the CLI, which their many runs have shown steady.
    const child =
      options.cli === true
        ? spawn(
            WRANGLER,
            ["dev", "--config", config, "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()), "--env-file", envFile, "--show-interactive-dev-session=false"],
            { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe"] },
          )
        : // Its stdin is a pipe from this process: when this process dies, however it dies, the worker stops too.
          spawn(process.execPath, ["--import", "tsx", WORKER_PROCESS, config, "127.0.0.1", String(port), envFile], { cwd: ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
    const collect = (chunk: Buffer) => {
      log = (log + chunk.toString()).slice(-20_000);
      if (options.workerOutput !== false) process.stdout.write(chunk);
      if (options.workerLogFile) appendFileSync(options.workerLogFile, chunk);
    };
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    stoppers.push(
      () =>
        new Promise<void>((done) => {
          if (child.exitCode !== null) return done();
          child.once("exit", () => done());
          child.kill("SIGTERM");
          setTimeout(() => child.kill("SIGKILL"), 5000).unref();
        }),
    );
    await waitForWorker(url, child, () => log);
    const apiKey = vars.PROXY_API_KEYS!.split(",")[0]!.trim();

    return {
      url,
      apiKey,
      demoUrl: await demoLink(url, apiKey),
      upstash,
      upstream: { url: vars.OPENAI_BASE_URL!, mock: Boolean(mock) },
      cosmos,
      vars,
      workerLog: () => log,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
