import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        // Pure logic and request handling, inside workerd like production.
        plugins: [cloudflareTest({ main: "./src/index.ts", wrangler: { configPath: "./wrangler.toml" } })],
        test: { name: "unit", include: ["test/unit/**/*.test.ts"] },
      },
      {
        // The local servers themselves (Upstash REST server, mock LLM), driven through the real SDKs.
        test: { name: "dev", include: ["test/dev/**/*.test.ts"], environment: "node", testTimeout: 20_000 },
      },
    ],
  },
});
