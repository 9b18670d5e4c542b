/**
 * The worker as `wrangler dev` runs it, started through wrangler's own API with the inspector off
 * unless INSPECTOR_PORT asks for it. With DevTools attached, as the CLI always does, wrangler has
 * the runtime report every subrequest to it: ~2.5 ms each, three or four a turn, which was most of
 * what `npm run dev` added over the same worker under Miniflare. Everything else (bundling, watching
 * src/ and rebuilding, the dev proxy, the worker's console output) is wrangler's as usual.
 *
 * Usage: worker-process.ts <wrangler config> <ip> <port> <env file>; runs until SIGTERM, or until
 * its stdin closes (the stack that started it is gone).
 */
import { unstable_startWorker } from "wrangler";

const [config, hostname, port, envFile] = process.argv.slice(2);
const inspectorPort = process.env.INSPECTOR_PORT ? Number(process.env.INSPECTOR_PORT) : undefined;

const worker = await unstable_startWorker({
  config,
  envFiles: [envFile!],
  dev: {
    server: { hostname, port: Number(port) },
    inspector: inspectorPort ? { hostname: "127.0.0.1", port: inspectorPort } : false,
    watch: true,
  },
});
await worker.ready;

const stop = async () => {
  await worker.dispose().catch(() => {});
  process.exit(0);
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
// The stack holds the other end of stdin: it closes when the stack exits, even killed outright.
process.stdin.on("end", stop).on("error", stop).resume();
