// Prints the size of the built worker, raw and gzip-compressed (Cloudflare's script limit is on the
// compressed total: 3 MB on the free plan): the main module, which every isolate parses at startup,
// and the modules loaded on demand beside it.
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";

const dir = process.argv[2] ?? "dist";
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
const files = readdirSync(dir, { recursive: true, withFileTypes: true })
  .filter((entry) => entry.isFile() && /\.m?js$/.test(entry.name))
  .map((entry) => join(entry.parentPath, entry.name));

let raw = 0;
let gz = 0;
const parts = [];
for (const file of files) {
  const bytes = readFileSync(file);
  const size = { raw: bytes.length, gz: gzipSync(bytes, { level: 9 }).length };
  raw += size.raw;
  gz += size.gz;
  parts.push(`${relative(dir, file)} ${kib(size.raw)} (${kib(size.gz)} gzip)`);
}
console.log(`bundle: ${kib(raw)} raw, ${kib(gz)} gzip in all (limit 3072 KiB compressed on the free plan): ${parts.join(", ")}`);
