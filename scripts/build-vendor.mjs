// Builds @azure/cosmos (its browser build, as workerd runs it) into src/vendor/azure-cosmos.mjs,
// and the o200k tokenizer into src/vendor/o200k.mjs: each one ES module that wrangler uploads beside the worker instead of inside it (wrangler.toml:
// find_additional_modules), so an isolate parses it only when it first needs Cosmos, not at
// startup. wrangler runs this before every build ([build] command); so do `npm test` and
// `npm run dev`. The file is written only when it changes, so wrangler's watcher does not loop.
import { build } from "esbuild";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

const root = join(import.meta.dirname, "..");

/** Each module an isolate loads only when a request first needs it. */
const modules = {
  "azure-cosmos.mjs": 'export * from "@azure/cosmos";',
  // The o200k BPE tokenizer, for TOKENIZER=exact: its ranks alone are megabytes of source.
  "o200k.mjs": 'export { countTokens } from "gpt-tokenizer/encoding/o200k_base";',
};

for (const [name, contents] of Object.entries(modules)) {
  const out = join(root, "src", "vendor", name);
  const result = await build({
    stdin: { contents, resolveDir: root, loader: "js" },
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
}
