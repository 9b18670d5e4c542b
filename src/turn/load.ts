import type { Config } from "../config";
import { admitUser } from "../rate-limit/rate-limit";
import { redisClient } from "../redis/client";
import { RedisBatch } from "../redis/batch";
import { emptyMemory, type LoadedMemory, type TurnMemory, type TurnTarget } from "../memory/turn-memory";

export interface LoadedTurn {
  memory: LoadedMemory;
  /** x-ratelimit-* for the answer. */
  limitHeaders: Record<string, string>;
}

/**
 * The rate-limit check and the turn's reads, sent together as one Upstash request. A user over
 * the limit gets 429 before anything else is done for them (Cosmos included), and lets go of the
 * Idempotency-Key the load claimed.
 */
export async function loadTurn(config: Config, store: TurnMemory | undefined, target: TurnTarget): Promise<LoadedTurn> {
  const batch = store ? store.batch() : config.rateLimit.requests > 0 ? new RedisBatch(redisClient(config)) : undefined;
  if (!batch) return { memory: emptyMemory(), limitHeaders: {} };
  const admitted = admitUser(config, batch, target.user);
  const gate = admitted.then(() => {});
  gate.catch(() => {}); // load awaits it only before a Cosmos read; the verdict is awaited below anyway
  const loading = store ? store.load(target, config.window.maxMessages - 1, batch, gate) : Promise.resolve(emptyMemory());
  loading.catch(() => {}); // awaited below, after the verdict
  await batch.flush().catch(() => {}); // failures surface through the promises above
  let limitHeaders;
  try {
    limitHeaders = await admitted;
  } catch (error) {
    // Over the limit: the same request claimed the turn's Idempotency-Key, which its retry needs.
    if (store) await store.release(target);
    throw error;
  }
  return { memory: await loading, limitHeaders };
}

/** The turn's reads again, without the rate limit (already counted): after waiting for a replica. */
export async function reloadMemory(config: Config, store: TurnMemory, target: TurnTarget): Promise<LoadedMemory> {
  const batch = store.batch();
  const loading = store.load(target, config.window.maxMessages - 1, batch);
  loading.catch(() => {});
  await batch.flush().catch(() => {});
  return loading;
}
