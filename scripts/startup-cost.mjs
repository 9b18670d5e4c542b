// Startup cost of the built worker: the parse + evaluation of its bundle that an isolate pays
// before its first request, measured in fresh Node processes (the same V8 as workerd), median of
// several runs. Node's own costs are kept out of the number: the bundle is converted to CommonJS
// (no ESM format detection) and the web globals Node loads lazily (fetch, streams) are touched
// before the clock starts. `self` is defined because the bundle holds browser builds of SDKs, and
// `cloudflare:workers` (the runtime's own module, which the bundle imports) is a stub.
// Usage: node scripts/startup-cost.mjs [dist/index.js] [runs]
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { transformSync } from "esbuild";
import { readFileSync } from "node:fs";

const file = resolve(process.argv[2] ?? "dist/index.js");
const runs = Number(process.argv[3] ?? 15);
const dir = mkdtempSync(join(tmpdir(), "startup-"));
const cjs = join(dir, "worker.cjs");
const runtime = join(dir, "cloudflare-workers.cjs");
writeFileSync(runtime, "exports.DurableObject = class DurableObject {};\n");
writeFileSync(cjs, transformSync(readFileSync(file, "utf8"), { format: "cjs", loader: "js" }).code);

const probe = `
globalThis.self ??= globalThis;
const Module = require("node:module");
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  return request === "cloudflare:workers" ? ${JSON.stringify(runtime)} : resolveFilename.call(this, request, ...rest);
};
void [fetch, Request, Response, Headers, ReadableStream, TransformStream, crypto.subtle, require("node:util")];
const t = performance.now();
require(${JSON.stringify(cjs)});
console.log(performance.now() - t);`;
const samples = [];
for (let i = 0; i < runs; i++) {
  samples.push(Number(execFileSync(process.execPath, ["-e", probe]).toString().trim()));
}
samples.sort((a, b) => a - b);
const ms = (n) => n.toFixed(1);
console.log(`startup: ${ms(samples[Math.floor(runs / 2)])} ms median to load ${file} (min ${ms(samples[0])}, max ${ms(samples.at(-1))}, ${runs} runs)`);
