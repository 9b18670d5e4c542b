import { startStack } from "./stack";

/** `npm run dev`: the whole local stack, a ready API key and a curl line; Ctrl-C stops it all. */
async function main() {
  console.log("concierge: starting the local stack...");
  // What the local stack shows off unless told otherwise: summaries of what leaves the window, and
  // preferences learned from what users say.
  const stack = await startStack({ defaults: { SUMMARY_MODE: "on", MEMORY_EXTRACTION: "on", RECALL: "on" } });
  const curl = [
    `curl -N ${stack.url}/v1/chat/completions \\`,
    `  -H "Authorization: Bearer ${stack.apiKey}" \\`,
    `  -H "X-User-Id: alice" -H "X-Session-Id: demo" \\`,
    `  -H "Content-Type: application/json" \\`,
    `  -d '{"messages":[{"role":"user","content":"Hello, remember me?"}],"stream":true}'`,
  ].join("\n");
  console.log(`
concierge is running

  proxy      ${stack.url}/v1            (OpenAI-compatible baseURL)
  api key    ${stack.apiKey}
  redis      ${stack.upstash.url}  (Upstash REST, ${stack.upstash.backend})
  profiles   ${stack.cosmos.endpoint}  (Cosmos DB${stack.cosmos.emulator ? " emulator, in memory" : ""})
  upstream   ${stack.upstream.url}  (${stack.upstream.mock ? "mock model" : "configured provider"})

try it:

${curl}
${stack.demoUrl ? `
or open the demo widget (a chat that remembers, as ${"demo-user"}):

  ${stack.demoUrl}
` : ""}
Ctrl-C stops everything.
`);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log("\nconcierge: stopping...");
    await stack.stop();
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
}

main().catch((error: unknown) => {
  console.error(`concierge: could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
