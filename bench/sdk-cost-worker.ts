/**
 * The worker of bench/sdk-cost.ts: the same upstream and Upstash requests a turn makes, sent with
 * the SDK concierge uses and with a bare fetch of the same bytes, so the difference is the SDK's.
 */
import { Redis } from "@upstash/redis/cloudflare";
import OpenAI from "openai";

interface Env {
  MODEL_URL: string;
  MODEL_KEY: string;
  UPSTASH_URL: string;
  UPSTASH_TOKEN: string;
}

/** A bench turn's prompt: a system message and a window of 19 messages, then the new one. */
const line = "what should I pack for a week in Lisbon in spring?";
const messages = [
  { role: "system" as const, content: "You are a helpful assistant." },
  ...Array.from({ length: 19 }, (_, i) => ({ role: i % 2 ? ("assistant" as const) : ("user" as const), content: `turn ${i}: ${line}` })),
  { role: "user" as const, content: `turn 19: ${line}` },
];
const completion = { model: "mock-small", messages };

/** A turn's load and save, in shape: reads of the session, its summary, counters and caches; then the append and its expiries. */
const key = (name: string) => `bench:{sdk-cost}:${name}`;
const message = JSON.stringify({ role: "user", content: `turn 19: ${line}` });
const load: string[][] = [
  ["LRANGE", key("messages"), "-40", "-1"],
  ["GET", key("summary")],
  ["GET", key("appended")],
  ["GET", key("profile")],
  ["HGET", key("turns"), "idempotency-key"],
  ["PTTL", key("messages")],
];
const save: string[][] = [
  ["RPUSH", key("messages"), message, message],
  ["LTRIM", key("messages"), "-40", "-1"],
  ["INCRBY", key("appended"), "2"],
  ["EXPIRE", key("messages"), "3600"],
  ["EXPIRE", key("appended"), "3600"],
  ["ZADD", key("index"), "1", "s"],
];

let openai: OpenAI | undefined;

export default {
  // A failure's text in the answer: the bench prints it.
  fetch: (request: Request, env: Env) => answer(new URL(request.url).pathname, env).catch((error: unknown) => new Response(String(error), { status: 500 })),
};

async function answer(way: string, env: Env): Promise<Response> {
  if (way === "/model/fetch") {
    const res = await fetch(`${env.MODEL_URL}/chat/completions`, {
      method: "POST",
      headers: { Authorization: `Bearer ${env.MODEL_KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify(completion),
      signal: AbortSignal.timeout(60_000),
    });
    return new Response(await res.text());
  }
  if (way === "/model/sdk") {
    // As concierge configures it (src/upstream/client.ts), less the fetch wrapper of its own.
    openai ??= new OpenAI({ baseURL: env.MODEL_URL, apiKey: env.MODEL_KEY, timeout: 60_000, maxRetries: 2, defaultHeaders: { "User-Agent": "OpenAI/JS (bench)" } });
    return new Response(await (await openai.chat.completions.create(completion, { signal: AbortSignal.timeout(60_000) }).asResponse()).text());
  }
  const upstash = (path: string, commands: string[][]) =>
    fetch(`${env.UPSTASH_URL}${path}`, {
      method: "POST",
      headers: { Authorization: `Bearer ${env.UPSTASH_TOKEN}` },
      body: JSON.stringify(commands),
      signal: AbortSignal.timeout(5000),
    }).then((res) => res.json());
  if (way === "/upstash/fetch") return Response.json([await upstash("/pipeline", load), await upstash("/multi-exec", save)]);
  if (way === "/upstash/sdk") {
    // As concierge does: a client of the turn's own, no retries, no base64, no type guessing.
    const redis = new Redis({ url: env.UPSTASH_URL, token: env.UPSTASH_TOKEN, retry: false, enableTelemetry: false, enableAutoPipelining: false, automaticDeserialization: false, responseEncoding: false, signal: () => AbortSignal.timeout(5000) });
    // The same commands through the typed builders, as a turn's code calls them.
    const reads = redis.pipeline();
    reads.lrange(key("messages"), -40, -1).get(key("summary")).get(key("appended")).get(key("profile")).hget(key("turns"), "idempotency-key").pttl(key("messages"));
    const writes = redis.multi();
    writes.rpush(key("messages"), message, message).ltrim(key("messages"), -40, -1).incrby(key("appended"), 2).expire(key("messages"), 3600).expire(key("appended"), 3600).zadd(key("index"), { score: 1, member: "s" });
    const loaded = await reads.exec();
    return Response.json([loaded, await writes.exec()]);
  }
  return new Response("no such way", { status: 404 });
}
