/**
 * `npx tsx bench/openai-log-cost.ts`: what patches/openai+7.57.0.patch saves a turn. Unpatched, the
 * openai SDK formatted two log lines for every response, even with logging off; this runs that
 * formatting in workerd (bench/openai-log-cost-worker.ts) on a real fetched response, with the bench
 * mock's few headers and with the 20 that OpenAI's API sends, and prints its CPU per response:
 * workerd's CPU from /proc over 10 requests that format it 20,000 times each, less that of 10 that
 * do not, two rounds.
 */
import { createServer, type OutgoingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { build } from "esbuild";
import { cpuMsOfTree } from "./proc";
import { inlineWorker, ROOT } from "./targets";

const TIMES = 20_000;
const REQUESTS = 10;

/** The headers each kind of upstream answers with (Node adds date, connection and keep-alive to both). */
const HEADERS: Record<string, OutgoingHttpHeaders> = {
  mock: { "content-type": "application/json" },
  openai: {
    "content-type": "application/json",
    "x-request-id": "req_0123456789abcdef",
    "openai-organization": "org-example",
    "openai-processing-ms": "312",
    "openai-project": "proj_example",
    "openai-version": "2020-10-01",
    "x-ratelimit-limit-requests": "10000",
    "x-ratelimit-limit-tokens": "2000000",
    "x-ratelimit-remaining-requests": "9999",
    "x-ratelimit-remaining-tokens": "1999000",
    "x-ratelimit-reset-requests": "6ms",
    "x-ratelimit-reset-tokens": "0s",
    "strict-transport-security": "max-age=31536000; includeSubDomains; preload",
    "cf-cache-status": "DYNAMIC",
    "set-cookie": "__cf_bm=example; path=/; HttpOnly; Secure",
    "x-content-type-options": "nosniff",
    server: "cloudflare",
    "cf-ray": "0123456789abcdef-LHR",
    "alt-svc": 'h3=":443"; ma=86400',
    "access-control-expose-headers": "X-Request-ID",
  },
};

async function main() {
  const upstream = createServer((req, res) => {
    res.writeHead(200, HEADERS[req.url!.slice(1)]);
    res.end("{}");
  });
  await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
  const from = (kind: string) => `http://127.0.0.1:${(upstream.address() as AddressInfo).port}/${kind}`;
  const bundle = await build({ entryPoints: [`${ROOT}/bench/openai-log-cost-worker.ts`], bundle: true, format: "esm", platform: "browser", minify: true, write: false, logLevel: "error" });
  const worker = await inlineWorker("openai-log-cost-worker", bundle.outputFiles[0]!.text);
  const cpuOf = async (kind: string, times: number) => {
    const before = cpuMsOfTree(worker.pid!);
    for (let i = 0; i < REQUESTS; i++) {
      const res = await fetch(`${worker.url}/?k=${times}&from=${encodeURIComponent(from(kind))}`);
      if (!res.ok) throw new Error(`${kind}: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
    return cpuMsOfTree(worker.pid!) - before;
  };

  const rounds: Array<Record<string, number>> = [];
  for (let round = 0; round < 2; round++) {
    const perResponse: Record<string, number> = {};
    for (const kind of Object.keys(HEADERS)) {
      await cpuOf(kind, TIMES); // warm-up
      const formatting = (await cpuOf(kind, TIMES)) - (await cpuOf(kind, 0));
      perResponse[`${kind}_us`] = Number(((formatting * 1000) / (REQUESTS * TIMES)).toFixed(1));
    }
    rounds.push(perResponse);
  }
  console.log(JSON.stringify({ formatting_cpu_per_response: rounds }, null, 2));
  await worker.dispose();
  upstream.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
