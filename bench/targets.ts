import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable } from "node:stream";
import { Miniflare } from "miniflare";
import { freePort } from "../dev/ports";
import { hs256, now } from "../test/support/jwt";
import { childrenNamed } from "./proc";

export const ROOT = join(import.meta.dirname, "..");
export const CACHE = join(ROOT, "bench", ".cache");
const PORTKEY_VERSION = "1.15.2";

/** Something the bench sends chat completions to: where, as whom, and which processes do its work. */
export interface Target {
  name: string;
  url: string;
  /** The request for a turn: what this target needs to be told (the whole history, or only the new message). */
  request(turn: Turn): { headers: Record<string, string>; body: string };
  /** The root of the process tree whose CPU is this target's (undefined: not measured). */
  pid: number | undefined;
  stop(): Promise<void>;
}

export interface Turn {
  user: string;
  session: string;
  text: string;
  stream: boolean;
  /** What came before, for targets without memory. */
  history: Array<{ role: string; content: string }>;
}

const json = (body: object) => JSON.stringify(body);

/** The wrangler.toml settings a Miniflare instance needs to run a build like production. */
function compatibility(): { compatibilityDate: string; compatibilityFlags: string[] } {
  const toml = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  const date = toml.match(/^compatibility_date\s*=\s*"([^"]+)"/m)![1]!;
  const flags = [...toml.match(/^compatibility_flags\s*=\s*\[([^\]]*)\]/m)![1]!.matchAll(/"([^"]+)"/g)].map((m) => m[1]!);
  return { compatibilityDate: date, compatibilityFlags: flags };
}

/**
 * A worker under the Miniflare API (no wrangler dev proxy in front), and the workerd process it
 * runs in. The bench talks to the worker's own socket, and its fetches go straight out: Miniflare
 * would otherwise put two workers of its own around it, an entry worker in front of every request
 * and one that strips CF-Connecting-IP behind every subrequest. Production has neither, and they
 * cost the process CPU that the numbers would charge to the worker (bench/subrequest-cost.ts says
 * how much). `throughMiniflare` keeps them, for that comparison.
 */
async function miniflare(
  modules: Array<{ path: string }>,
  modulesRoot: string,
  bindings: Record<string, string>,
  durableObjects: Record<string, string> = {},
  throughMiniflare = false,
): Promise<{ url: string; pid: number | undefined; dispose(): Promise<void> }> {
  const before = new Set(childrenNamed(process.pid, "workerd"));
  const mf = new Miniflare({
    modules: modules.map(({ path }) => ({ type: "ESModule" as const, path })),
    modulesRoot,
    ...compatibility(),
    bindings,
    durableObjects,
    host: "127.0.0.1",
    port: await freePort(),
    ...(throughMiniflare ? {} : { unsafeDirectSockets: [{ host: "127.0.0.1", port: await freePort() }], stripCfConnectingIp: false }),
    // The worker logs a line per turn, as in production; the bench drains it unread.
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      stdout.resume();
      stderr.resume();
    },
  });
  const entry = await mf.ready;
  const url = String(throughMiniflare ? entry : await mf.unsafeGetDirectURL()).replace(/\/$/, "");
  const pid = childrenNamed(process.pid, "workerd").find((p) => !before.has(p));
  return { url, pid, dispose: () => mf.dispose() };
}

/** A worker whose module is `script` (written to bench/.cache/<name>.js), under the Miniflare API: for benches of one runtime cost. */
export async function inlineWorker(
  name: string,
  script: string,
  bindings: Record<string, string> = {},
  durableObjects: Record<string, string> = {},
  throughMiniflare = false,
) {
  mkdirSync(CACHE, { recursive: true });
  const path = join(CACHE, `${name}.js`);
  writeFileSync(path, script);
  return miniflare([{ path }], CACHE, bindings, durableObjects, throughMiniflare);
}

/** The deploy bundle, built offline exactly as `wrangler deploy` would upload it. */
export function buildConcierge(): string {
  const out = join(ROOT, "dist");
  execFileSync(join(ROOT, "node_modules", ".bin", "wrangler"), ["deploy", "--dry-run", "--env", "production", "--outdir", out], {
    cwd: ROOT,
    stdio: "ignore",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false" },
  });
  return out;
}

/** What the bench's widget tokens are signed with (JWT_SECRET in a widget target's bindings). */
const WIDGET_SECRET = "bench-widget-secret-0123456789abcdef0123";

/** A widget token for `user`, as POST /v1/tokens mints them (HS256, an hour long). */
const widgetToken = (user: string) => hs256({ sub: user, iat: now(), exp: now() + 3600 }, WIDGET_SECRET);

/**
 * stateless: the client sends the history. syncObjects: SYNC_FALLBACK=durable-object, as the
 * bench's client echoes no sync token. widget: the client is a widget (its token, an
 * Idempotency-Key per turn, as widget.js sends them), its turns in the session's Durable Object
 * ("resumable") or in the request ("in-request", RESUMABLE_REPLIES=off). recall: RECALL=on.
 */
export async function concierge(
  name: string,
  dist: string,
  bindings: Record<string, string>,
  options: { stateless?: boolean; syncObjects?: boolean; widget?: "resumable" | "in-request"; recall?: boolean } = {},
): Promise<Target> {
  const vendor = ["vendor/azure-cosmos.mjs", "vendor/o200k.mjs"].filter((file) => existsSync(join(dist, file)));
  const modules = [{ path: join(dist, "index.js") }, ...vendor.map((file) => ({ path: join(dist, file) }))];
  const worker = options.syncObjects
    ? await miniflare(modules, dist, { ...bindings, SYNC_FALLBACK: "durable-object" }, { SESSION_SYNC: "SessionSync" })
    : options.widget === "resumable"
      ? await miniflare(modules, dist, { ...bindings, JWT_SECRET: WIDGET_SECRET }, { SESSION_TURNS: "SessionTurns" })
      : options.widget === "in-request"
        ? await miniflare(modules, dist, { ...bindings, JWT_SECRET: WIDGET_SECRET, RESUMABLE_REPLIES: "off" })
        : await miniflare(modules, dist, options.recall ? { ...bindings, RECALL: "on" } : bindings);
  const apiKey = bindings.PROXY_API_KEYS!.split(",")[0]!.trim();
  const tokens = new Map<string, string>();
  const caller = (user: string): Record<string, string> => {
    if (!options.widget) return { Authorization: `Bearer ${apiKey}`, "X-User-Id": user };
    let token = tokens.get(user);
    if (!token) tokens.set(user, (token = widgetToken(user)));
    return { Authorization: `Bearer ${token}`, "Idempotency-Key": randomUUID() };
  };
  return {
    name,
    url: `${worker.url}/v1/chat/completions`,
    pid: worker.pid,
    request: (turn) => ({
      headers: {
        ...caller(turn.user),
        "Content-Type": "application/json",
        ...(options.stateless ? { "X-Session-Store": "false" } : { "X-Session-Id": turn.session }),
      },
      // With memory the session holds the history; stateless, the client sends it, as to any proxy.
      body: json({ model: "mock-small", stream: turn.stream, messages: [...(options.stateless ? turn.history : []), { role: "user", content: turn.text }] }),
    }),
    stop: () => worker.dispose(),
  };
}

function withHistory(turn: Turn): string {
  return json({ model: "mock-small", stream: turn.stream, messages: [...turn.history, { role: "user", content: turn.text }] });
}

export function direct(modelUrl: string, apiKey: string): Target {
  return {
    name: "direct",
    url: `${modelUrl}/chat/completions`,
    pid: undefined,
    request: (turn) => ({ headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json" }, body: withHistory(turn) }),
    stop: async () => {},
  };
}

/** The bare passthrough; with `memoryTurn`, also a turn's two Upstash requests sent verbatim (bench/bare-worker.ts). */
export async function bare(modelUrl: string, apiKey: string, memoryTurn?: { upstashUrl: string; token: string; load: string; save: string }): Promise<Target> {
  mkdirSync(CACHE, { recursive: true });
  const script = join(CACHE, "bare-worker.js");
  execFileSync(join(ROOT, "node_modules", ".bin", "esbuild"), [join(ROOT, "bench", "bare-worker.ts"), "--bundle", "--format=esm", "--minify", `--outfile=${script}`, "--log-level=error"]);
  const upstash: Record<string, string> = memoryTurn ? { UPSTASH_URL: memoryTurn.upstashUrl, UPSTASH_TOKEN: memoryTurn.token, LOAD_BODY: memoryTurn.load, SAVE_BODY: memoryTurn.save } : {};
  const worker = await miniflare([{ path: script }], CACHE, { OPENAI_BASE_URL: modelUrl, OPENAI_API_KEY: apiKey, ...upstash });
  return {
    name: memoryTurn ? "bare_hono_3_fetches" : "bare_hono",
    url: `${worker.url}/v1/chat/completions`,
    pid: worker.pid,
    request: (turn) => ({ headers: { "Content-Type": "application/json" }, body: withHistory(turn) }),
    stop: () => worker.dispose(),
  };
}

/** Installs the gateway once into bench/.cache (its own install script, patch-package, is not needed to run it). */
function installPortkey(): string {
  const dir = join(CACHE, "portkey");
  const entry = join(dir, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");
  if (existsSync(entry)) return entry;
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "package.json"), json({ name: "bench-portkey", private: true }));
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", `@portkey-ai/gateway@${PORTKEY_VERSION}`], { cwd: dir, stdio: "ignore" });
  return entry;
}

export async function portkey(modelUrl: string, apiKey: string): Promise<Target> {
  const entry = installPortkey();
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, ["--import", join(ROOT, "bench", "portkey-patch.mjs"), entry, `--port=${port}`, "--headless"], {
    env: { ...process.env, NODE_ENV: "production" },
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      if ((await fetch(url)).ok) break;
    } catch {
      if (i > 200) throw new Error("the Portkey gateway did not start");
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    name: `portkey_${PORTKEY_VERSION.replaceAll(".", "_")}`,
    url: `${url}/v1/chat/completions`,
    pid: child.pid,
    request: (turn) => ({
      headers: { Authorization: `Bearer ${apiKey}`, "Content-Type": "application/json", "x-portkey-provider": "openai", "x-portkey-custom-host": modelUrl },
      body: withHistory(turn),
    }),
    stop: async () => {
      child.kill();
    },
  };
}

export { PORTKEY_VERSION };
