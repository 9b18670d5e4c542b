// Prints the size of the built worker bundle, raw and gzip-compressed
// (Cloudflare's script limit is on the compressed size: 3 MB on the free plan).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const dir = process.argv[2] ?? "dist";
let raw = 0;
let gz = 0;
for (const name of readdirSync(dir)) {
  const file = join(dir, name);
  if (!statSync(file).isFile() || name.endsWith(".map")) continue;
  const bytes = readFileSync(file);
  raw += bytes.length;
  gz += gzipSync(bytes, { level: 9 }).length;
}
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`bundle: ${kib(raw)} raw, ${kib(gz)} gzip (limit 3072 KiB compressed on the free plan)`);
