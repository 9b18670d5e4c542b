import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The parts of wrangler.toml this file reads or rewrites (wrangler types the rest loosely). */
interface RawConfig {
  main?: string;
  base_dir?: string;
  assets?: { directory?: string };
  build?: unknown;
  env?: unknown;
  [setting: string]: unknown;
}

/**
 * wrangler.toml as the local stack runs it under `wrangler dev`: without [build] and the deployed
 * environments, written as `<dir>/wrangler.json` (its path is returned).
 *
 * With a custom build, wrangler 4 runs it when it starts and again once its file watcher is
 * ready, printing "The file src changed, restarting build..." at every start although nothing
 * changed (nothing is written either: scripts/build-vendor.mjs skips an unchanged file). What
 * that build makes, src/vendor/, the stack builds itself before starting wrangler, and wrangler's
 * own bundler then watches src/ as usual. Deploys keep [build].
 */
export async function writeDevWranglerConfig(root: string, dir: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const { experimental_readRawConfig } = await importWrangler();
  const { rawConfig } = experimental_readRawConfig({ config: join(root, "wrangler.toml") }) as { rawConfig: RawConfig };
  const { build: _build, env: _env, ...config } = rawConfig;
  // Relative paths are read relative to the config file, which no longer sits in the root.
  const fromRoot = (path: string | undefined) => (path === undefined ? undefined : resolve(root, path));
  const devConfig = {
    ...config,
    main: fromRoot(config.main),
    base_dir: fromRoot(config.base_dir),
    ...(config.assets ? { assets: { ...config.assets, directory: fromRoot(config.assets.directory) } } : {}),
    ...overrides,
  };
  const path = join(dir, "wrangler.json");
  writeFileSync(path, JSON.stringify(devConfig, null, 2));
  return path;
}

/**
 * wrangler's API, without what importing it does to the process: its CLI module, loaded with it,
 * registers SIGINT and SIGTERM handlers that exit at once. In `npm run dev` those ran before the
 * stack's own shutdown, so Ctrl-C left the worker running and its secrets file on disk.
 */
async function importWrangler(): Promise<typeof import("wrangler")> {
  const signals = ["SIGINT", "SIGTERM"] as const;
  const before = new Set(signals.flatMap((signal) => process.listeners(signal)));
  const wrangler = await import("wrangler");
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) if (!before.has(listener)) process.off(signal, listener);
  }
  return wrangler;
}
