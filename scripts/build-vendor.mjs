// Builds @azure/cosmos (its browser build, as workerd runs it) into src/vendor/azure-cosmos.mjs:
// one ES module that wrangler uploads beside the worker instead of inside it (wrangler.toml:
// find_additional_modules), so an isolate parses it only when it first needs Cosmos, not at
// startup. wrangler runs this before every build ([build] command); so do `npm test` and
// `npm run dev`. The file is written only when it changes, so wrangler's watcher does not loop.
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const root = join(import.meta.dirname, "..");
const out = join(root, "src", "vendor", "azure-cosmos.mjs");

const result = await build({
  stdin: { contents: 'export * from "@azure/cosmos";', resolveDir: root, loader: "js" },
  bundle: true,
  format: "esm",
  platform: "browser",
  conditions: ["workerd", "worker", "browser"],
  target: "es2022",
  minify: true,
  write: false,
  external: ["node:*"],
  logLevel: "error",
});
const code = result.outputFiles[0].text;
if (!existsSync(out) || readFileSync(out, "utf8") !== code) {
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, code);
}
