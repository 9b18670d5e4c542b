// The Upstash REST server in a process of its own, so the bench can tell its CPU from the load
// generator's. Prints its URL as one JSON line, then serves until killed.
import { startUpstashServer } from "../dev/upstash/server";

const server = await startUpstashServer({ token: process.env.UPSTASH_TOKEN!, redisUrl: process.env.REDIS_URL || undefined });
process.stdout.write(`${JSON.stringify({ url: server.url, backend: server.backend })}\n`);
