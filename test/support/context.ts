import { Redis as Upstash } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import OpenAI from "openai";
import { inject } from "vitest";

/** What global-setup started, as the tests see it. */
export interface StackInfo {
  url: string;
  apiKey: string;
  /** Unset when the stack runs on the embedded backend (CONCIERGE_REDIS=embedded). */
  redisUrl: string | undefined;
  /** Our Upstash REST server itself, not the fault proxy in front of it. */
  upstashUrl: string;
  upstashToken: string;
  upstreamUrl: string;
  /** What the worker presents to the mock model. */
  upstreamApiKey: string;
  faultProxyUrl: string;
  /** The emulator itself (for reading what the worker wrote), and the proxy the worker talks to. */
  cosmosEndpoint: string;
  cosmosKey: string;
  cosmosFaultProxyUrl: string;
  jwtSecret: string;
  jwksKeys: Array<{ kid: string; alg: "RS256" | "ES256"; privateKeyPem: string }>;
  /** Everything the worker has printed so far. */
  workerLogFile: string;
  /** Every secret the stack runs with, to look for where none may appear. */
  secrets: string[];
}

declare module "vitest" {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}

export const stack = (): StackInfo => inject("stack");

let counter = 0;
/** A user id no other test uses, so tests can run side by side on one Redis. */
export function uniqueId(prefix: string): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${(counter++).toString(36)}`;
}

/** The official openai client, pointed at the proxy, acting for `user`. */
export function openaiFor(user: string, extraHeaders: Record<string, string> = {}): OpenAI {
  const { url, apiKey } = stack();
  return new OpenAI({ baseURL: `${url}/v1`, apiKey, maxRetries: 0, defaultHeaders: { "X-User-Id": user, ...extraHeaders } });
}

/** What the tests read back from Redis, bypassing the worker and the fault proxy. */
export interface GroundTruth {
  get(key: string): Promise<string | null>;
  lrange(key: string, start: number, stop: number): Promise<string[]>;
  llen(key: string): Promise<number>;
  pttl(key: string): Promise<number>;
  ttl(key: string): Promise<number>;
  exists(...keys: string[]): Promise<number>;
  zcard(key: string): Promise<number>;
  del(...keys: string[]): Promise<number>;
  keys(pattern: string): Promise<string[]>;
  zrange(key: string, start: number, stop: number): Promise<string[]>;
  /** Many raw commands in one round trip, to lay down state a test starts from. */
  batch(commands: Array<Array<string | number>>): Promise<void>;
  quit(): Promise<unknown>;
}

/**
 * The ground truth: a direct connection to the redis-server behind the Upstash server, or, on the
 * embedded backend, the Upstash server itself (which those commands reach unchanged).
 */
export function directRedis(): GroundTruth {
  const { redisUrl, upstashUrl, upstashToken } = stack();
  if (redisUrl) {
    const client = new IORedis(redisUrl, { lazyConnect: false, maxRetriesPerRequest: 1 });
    return Object.assign(client, {
      batch: async (commands: Array<Array<string | number>>) => void (await client.pipeline(commands.map(([name, ...args]) => [String(name).toLowerCase(), ...args.map(String)])).exec()),
    });
  }
  const redis = new Upstash({ url: upstashUrl, token: upstashToken, automaticDeserialization: false, retry: false, enableTelemetry: false });
  return {
    get: (key) => redis.get<string>(key),
    lrange: (key, start, stop) => redis.lrange<string>(key, start, stop),
    llen: (key) => redis.llen(key),
    pttl: (key) => redis.pttl(key),
    ttl: (key) => redis.ttl(key),
    exists: (...keys) => redis.exists(...keys),
    zcard: (key) => redis.zcard(key),
    del: (...keys) => redis.del(...keys),
    keys: (pattern) => redis.keys(pattern),
    zrange: (key, start, stop) => redis.zrange<string[]>(key, start, stop),
    batch: async (commands) => {
      // In pipelines of at most ~500 KB: the server, like Upstash, refuses requests over 1 MB.
      for (let start = 0; start < commands.length; ) {
        const group: string[][] = [];
        for (let size = 0; start < commands.length && size < 500_000; start++) {
          const command = commands[start]!.map(String);
          size += JSON.stringify(command).length;
          group.push(command);
        }
        const res = await fetch(`${upstashUrl}/pipeline`, { method: "POST", headers: { Authorization: `Bearer ${upstashToken}` }, body: JSON.stringify(group) });
        if (!res.ok) throw new Error(`seeding through the Upstash server failed: ${res.status}`);
      }
    },
    quit: async () => "OK",
  };
}

export interface UpstreamRequest {
  body: { model: string; messages: Array<{ role: string; content: unknown; tool_calls?: unknown }>; [key: string]: unknown };
  headers: Record<string, string>;
}

/** What the mock model received, for requests whose last message contains `marker`. */
export async function upstreamRequests(marker: string): Promise<UpstreamRequest[]> {
  const origin = new URL(stack().upstreamUrl).origin;
  const all = (await (await fetch(`${origin}/__mock/requests`)).json()) as UpstreamRequest[];
  return all.filter((r) => JSON.stringify(r.body.messages.at(-1)?.content ?? "").includes(marker));
}

/** Raw HTTP to the proxy as a given user (for what the SDK hides: status codes, headers, SSE bytes). */
export function proxyFetch(path: string, init: RequestInit & { user?: string } = {}): Promise<Response> {
  const { url, apiKey } = stack();
  const headers = new Headers(init.headers);
  if (!headers.has("Authorization")) headers.set("Authorization", `Bearer ${apiKey}`);
  if (init.user) headers.set("X-User-Id", init.user);
  if (init.body && !headers.has("Content-Type")) headers.set("Content-Type", "application/json");
  return fetch(`${url}${path}`, { ...init, headers });
}

/** Every key holding one user's data (sessions, index, cached profile), straight from Redis. */
export async function keysOf(redis: GroundTruth, user: string): Promise<string[]> {
  return (await allKeysOf(redis, user)).filter((key) => !key.startsWith("ratelimit:"));
}

/** Every key naming the user, rate-limit counters included. */
export async function allKeysOf(redis: GroundTruth, user: string): Promise<string[]> {
  return (await redis.keys(`*{${user}}*`)).sort();
}

export { errorOf } from "./error-of";

/** A widget token for `user`, minted by the proxy itself (POST /v1/tokens), as a backend would. */
export async function mintToken(user: string): Promise<string> {
  const res = await proxyFetch("/v1/tokens", { method: "POST", body: JSON.stringify({ user }) });
  if (res.status !== 200) throw new Error(`minting a token failed: ${res.status}`);
  return ((await res.json()) as { token: string }).token;
}
