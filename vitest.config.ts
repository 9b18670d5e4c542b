import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        // Pure logic beside its code, and requests to the worker itself (test/worker/), inside workerd like production.
        plugins: [
          cloudflareTest({
            main: "./src/index.ts",
            wrangler: { configPath: "./wrangler.toml" },
            // No Redis or upstream here: unit tests stop before either is needed, or assert the 503.
            miniflare: { bindings: { PROXY_API_KEYS: "test-key-1, test-key-2", MAX_MESSAGES_PER_REQUEST: "5", MAX_MESSAGE_BYTES: "2048", MAX_BODY_BYTES: "8192" } },
          }),
        ],
        // A pool's first request pays for its startup, which on a 2-core machine busy with the
        // integration stacks took over 10 s (vitest's default hook timeout) once.
        test: { name: "unit", include: ["src/**/*.test.ts", "test/worker/**/*.test.ts"], hookTimeout: 60_000, testTimeout: 30_000 },
      },
      {
        // The worker under wrangler dev, driven by the official SDKs, against real local servers.
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/integration/global-setup.ts"],
          setupFiles: ["test/integration/dev-proxy-resend.ts", "test/integration/worker-log-on-failure.ts"],
          testTimeout: 30_000,
          hookTimeout: 90_000,
        },
      },
      {
        // What a user does by hand: `npm run dev`, its curl line, and the demo page in a browser.
        test: { name: "e2e", include: ["test/e2e/**/*.test.ts"], environment: "node", testTimeout: 120_000 },
      },
      {
        // The local servers themselves (Upstash REST server, mock LLM), driven through the real SDKs.
        test: { name: "dev", include: ["test/dev/**/*.test.ts"], environment: "node", testTimeout: 20_000 },
      },
    ],
  },
});
