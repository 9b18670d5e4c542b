import { freePort } from "../../dev/ports";
import { startStack, type Stack, type StackOptions } from "../../dev/stack";
import { stack } from "./context";

/**
 * A worker of its own, for settings the shared one must not have (they would change what other
 * test files see), on the shared Upstash server and Cosmos emulator, with the model at `modelUrl`.
 */
export async function startSecondWorker(options: { apiKey: string; modelUrl: string; modelKey: string; env: Record<string, string>; workerLogFile?: string; wrangler?: Record<string, unknown> }): Promise<Stack> {
  const settings: StackOptions = {
    devVars: false,
    workerOutput: false,
    cli: true,
    workerLogFile: options.workerLogFile,
    wrangler: options.wrangler,
    env: {
      PORT: String(await freePort()),
      PROXY_API_KEYS: options.apiKey,
      UPSTASH_REDIS_REST_URL: stack().upstashUrl,
      UPSTASH_REDIS_REST_TOKEN: stack().upstashToken,
      COSMOS_ENDPOINT: stack().cosmosEndpoint,
      COSMOS_KEY: stack().cosmosKey,
      OPENAI_BASE_URL: options.modelUrl,
      OPENAI_API_KEY: options.modelKey,
      DEFAULT_MODEL: "mock-small",
      RATE_LIMIT_REQUESTS: "0",
      ...options.env,
    },
  };
  return startStack(settings);
}
