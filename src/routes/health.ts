import { Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { profileStore, type ProfileStore } from "../memory/profile-store";
import { redisClient } from "../redis/client";

type Check = { status: "ok" } | { status: "failing" | "not_configured"; reason: string; skipped_until?: string };

async function checkRedis(config: AppEnv["Variables"]["config"]): Promise<Check> {
  if (!config.redis) return { status: "not_configured", reason: "UPSTASH_REDIS_REST_URL is not set" };
  try {
    await redisClient(config).ping();
    return { status: "ok" };
  } catch {
    return { status: "failing", reason: "Redis did not answer PING" };
  }
}

async function checkCosmos(config: AppEnv["Variables"]["config"]): Promise<Check> {
  if (!config.cosmos) return { status: "not_configured", reason: "COSMOS_ENDPOINT is not set (profiles are off)" };
  let store: ProfileStore | undefined;
  try {
    store = await profileStore(config.cosmos);
    await store.ping();
    return { status: "ok" };
  } catch {
    // While turns skip Cosmos after an outage, say until when, so an operator sees why they lack preferences.
    const skippedUntil = store?.skippedUntil();
    return { status: "failing", reason: "Cosmos DB did not answer", ...(skippedUntil ? { skipped_until: new Date(skippedUntil).toISOString() } : {}) };
  }
}

function checkUpstream(config: AppEnv["Variables"]["config"]): Check {
  return config.upstream.baseURL ? { status: "ok" } : { status: "not_configured", reason: "OPENAI_BASE_URL is not set" };
}

const RECHECK_AFTER_MS = 5000;

// Probes are unauthenticated and frequent; each Cosmos ping costs request units. One check per
// isolate every few seconds answers them all.
let lastCheck: { at: number; ready: boolean; checks: Record<string, Check> } | undefined;

async function readiness(config: AppEnv["Variables"]["config"], now = Date.now()) {
  if (lastCheck && now - lastCheck.at < RECHECK_AFTER_MS) return lastCheck;
  const [redis, cosmos] = await Promise.all([checkRedis(config), checkCosmos(config)]);
  const checks = { redis, cosmos, upstream: checkUpstream(config) };
  // Profiles are optional: not configuring Cosmos is a choice, not a failure.
  const ready = Object.entries(checks).every(([name, check]) => check.status === "ok" || (name === "cosmos" && check.status === "not_configured"));
  lastCheck = { at: now, ready, checks };
  return lastCheck;
}

/** Liveness (the isolate runs) and readiness (everything a chat turn needs answers). */
export const healthRoutes = new Hono<AppEnv>()
  .get("/healthz", (c) => c.json({ status: "ok" }))
  .get("/readyz", async (c) => {
    const { ready, checks } = await readiness(c.get("config"));
    // Which fallback a turn without X-Session-Sync uses, so an operator with read replicas can check it.
    const syncFallback = c.get("config").sessionSync ? "durable-object" : "isolate";
    return c.json({ status: ready ? "ready" : "not_ready", checks, sync_fallback: syncFallback }, ready ? 200 : 503);
  });
