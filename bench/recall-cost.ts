/**
 * `npx tsx bench/recall-cost.ts`: what recall costs Redis for users with 1,000 and 10,000 indexed
 * messages (RECALL_MAX_MESSAGES' default). On a throwaway redis-server, a user's index is built
 * with the worker's own INDEX_SCRIPT from bench/recall-seed.ts's synthetic messages (Zipf-distributed
 * words, so some posting lists are long), then:
 *   - bytes per indexed message (MEMORY USAGE of the user's recall keys);
 *   - the search: SEARCH_SCRIPT with queries of six words drawn the same way, as a turn sends it,
 *     its time inside Redis (INFO commandstats) and seen from the client over loopback;
 *   - a save's indexing: INDEX_SCRIPT with a turn's two messages, at the cap (so each also evicts).
 * Writes bench/results/recall-cost.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import IORedis from "ioredis";
import { startRedisServer } from "../dev/redis-server";
import { INDEX_SCRIPT, SEARCH_SCRIPT } from "../src/memory/recall-index";
import { indexArgs, message, random, word, zipf } from "./recall-seed";

const QUERIES = 300;
const SAVES = 200;

const keysOf = (user: string) => ["postings", "messages", "meta", "order", "sessions"].map((k) => `recall:{${user}}:${k}`);
const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor((p / 100) * values.length))]!;

async function evalStats(redis: IORedis): Promise<{ calls: number; usec: number }> {
  const info = await redis.info("commandstats");
  const line = /cmdstat_eval:calls=(\d+),usec=(\d+)/.exec(info);
  return { calls: Number(line?.[1] ?? 0), usec: Number(line?.[2] ?? 0) };
}

async function main(): Promise<void> {
  const server = await startRedisServer();
  const redis = new IORedis(server.url);
  const results: Record<string, unknown> = {};
  try {
    for (const size of [1000, 10_000]) {
      const user = `cost-${size}`;
      const [draw, next] = [zipf(random(size)), random(size + 1)];
      const recall = [...keysOf(user), `session:{${user}}:{s}:recalled`];
      for (let i = 0; i < size; i += 50) {
        const texts = Array.from({ length: 50 }, () => message(draw, next));
        await redis.eval(INDEX_SCRIPT, recall.length, ...recall, String(size), "3600", `s${Math.floor(i / 200)}`, "", ...indexArgs(texts, Date.now()));
      }
      let bytes = 0;
      for (const key of keysOf(user)) bytes += Number(await redis.call("MEMORY", "USAGE", key, "SAMPLES", "0"));

      const search = async () => {
        const terms = [...new Set(Array.from({ length: 6 }, () => word(draw())))];
        return redis.eval(SEARCH_SCRIPT, 3, ...keysOf(user).slice(0, 3), "5000", "", "12", "1", ...terms);
      };
      for (let i = 0; i < 20; i++) await search(); // warm
      const before = await evalStats(redis);
      const seen: number[] = [];
      for (let i = 0; i < QUERIES; i++) {
        const started = performance.now();
        await search();
        seen.push(performance.now() - started);
      }
      const after = await evalStats(redis);

      const saveBefore = await evalStats(redis);
      const saves: number[] = [];
      for (let i = 0; i < SAVES; i++) {
        const started = performance.now();
        await redis.eval(INDEX_SCRIPT, recall.length, ...recall, String(size), "3600", "s-new", "", ...indexArgs([message(draw, next), message(draw, next)], Date.now()));
        saves.push(performance.now() - started);
      }
      const saveAfter = await evalStats(redis);
      results[`indexed_${size}`] = {
        bytes_per_message: Math.round(bytes / size),
        index_mb: +(bytes / 1_048_576).toFixed(1),
        search_in_redis_ms: +((after.usec - before.usec) / (after.calls - before.calls) / 1000).toFixed(3),
        search_seen_p50_ms: +percentile(seen, 50).toFixed(3),
        search_seen_p99_ms: +percentile(seen, 99).toFixed(3),
        save_indexing_in_redis_ms: +((saveAfter.usec - saveBefore.usec) / (saveAfter.calls - saveBefore.calls) / 1000).toFixed(3),
        save_indexing_seen_p50_ms: +percentile(saves, 50).toFixed(3),
      };
      console.log(`recall-cost: ${size} messages: ${JSON.stringify(results[`indexed_${size}`])}`);
    }
  } finally {
    redis.disconnect();
    await server.stop();
  }
  const report = { generated_at: new Date().toISOString(), vocabulary: 5000, message_words: "15 to 39, Zipf", query_words: 6, ...results };
  const dir = join(import.meta.dirname, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "recall-cost.json"), `${JSON.stringify(report, null, 2)}\n`);
}

await main();
