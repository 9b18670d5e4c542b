import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { TestProject } from "vitest/node";
import { startCosmosEmulator } from "../../dev/cosmos/emulator";
import { freePort } from "../../dev/ports";
import { startRedisServer } from "../../dev/redis-server";
import { startStack } from "../../dev/stack";
import { startUpstashServer } from "../../dev/upstash/server";
import { startFaultProxy } from "../../dev/fault-proxy";
import { startJwksServer } from "../support/jwks-server";
import { noRedisServer } from "../support/prerequisites";

const UPSTASH_TOKEN = "integration-upstash-token";
export const JWT_SECRET = "integration-jwt-secret-of-at-least-32-characters";

/**
 * One real stack for all integration tests: redis-server, our Upstash REST server in front of it
 * and the Cosmos DB emulator (each behind a fault-injecting, request-recording proxy), the mock
 * model, and the worker under `wrangler dev`. Without redis-server (CONCIERGE_REDIS=embedded,
 * decided by `npm test`), the Upstash server runs on its embedded backend instead.
 * Tests isolate themselves by user id.
 */
export default async function setup(project: TestProject) {
  if (noRedisServer) console.log("integration: no redis-server (CONCIERGE_REDIS=embedded): the stack's Upstash server runs on the embedded backend");
  const redis = noRedisServer ? undefined : await startRedisServer();
  const upstash = await startUpstashServer({ token: UPSTASH_TOKEN, redisUrl: redis?.url });
  const faults = await startFaultProxy(upstash.url);
  const cosmos = await startCosmosEmulator({ database: "agent-db", container: "user-memory" });
  const cosmosFaults = await startFaultProxy(cosmos.endpoint);
  const jwks = await startJwksServer();
  const workerLogFile = join(mkdtempSync(join(tmpdir(), "concierge-log-")), "worker.log");
  const stack = await startStack({
    devVars: false,
    workerOutput: process.env.WORKER_OUTPUT === "1",
    workerLogFile,
    cli: true,
    env: {
      PORT: String(await freePort()),
      PROXY_API_KEYS: "sk-integration-1,sk-integration-2",
      UPSTASH_REDIS_REST_URL: faults.url,
      UPSTASH_REDIS_REST_TOKEN: UPSTASH_TOKEN,
      // Not lower: on a busy 2-core CI machine a healthy Upstash request took over 1 s (a 503).
      REDIS_TIMEOUT_MS: "3000",
      UPSTREAM_TIMEOUT_MS: "2000",
      UPSTREAM_IDLE_TIMEOUT_MS: "1500",
      MOCK_CHUNK_DELAY_MS: "2",
      COSMOS_ENDPOINT: cosmosFaults.url,
      COSMOS_KEY: cosmos.key,
      COSMOS_TIMEOUT_MS: "800",
      // Faults are injected per user into this shared worker: a breaker would carry one test's
      // outage into the next. Its own test runs a worker of its own.
      COSMOS_BREAKER_SECONDS: "0",
      JWT_SECRET,
      JWT_JWKS_URL: jwks.url,
      JWT_AUDIENCE: "concierge-tests",
      JWT_ISSUER: "https://auth.example.test",
      ALLOWED_ORIGINS: "https://widget.example.test, https://shop.example.test",
      ALLOWED_MODELS: "mock-small,mock-large",
      WIDGET_MAX_TOKENS: "256",
      // Generous enough for every other test, small enough that the rate-limit test hits it fast.
      RATE_LIMIT_REQUESTS: "40",
      RATE_LIMIT_WINDOW_SECONDS: "2",
      AUTH_FAILURE_LIMIT: "5",
      AUTH_FAILURE_WINDOW_SECONDS: "2",
    },
  });
  project.provide("stack", {
    url: stack.url,
    apiKey: stack.apiKey,
    redisUrl: redis?.url,
    upstashUrl: upstash.url,
    upstashToken: UPSTASH_TOKEN,
    upstreamUrl: stack.upstream.url,
    upstreamApiKey: stack.vars.OPENAI_API_KEY!,
    faultProxyUrl: faults.url,
    cosmosEndpoint: cosmos.endpoint,
    cosmosKey: cosmos.key,
    cosmosFaultProxyUrl: cosmosFaults.url,
    jwtSecret: JWT_SECRET,
    jwksKeys: jwks.keys,
    workerLogFile,
    secrets: [UPSTASH_TOKEN, JWT_SECRET, cosmos.key, stack.vars.OPENAI_API_KEY!, ...stack.vars.PROXY_API_KEYS!.split(",")],
  });
  return async () => {
    await stack.stop();
    await faults.close();
    await cosmosFaults.close();
    await cosmos.close();
    await jwks.close();
    await upstash.close();
    await redis?.stop();
    rmSync(dirname(workerLogFile), { recursive: true, force: true });
  };
}
