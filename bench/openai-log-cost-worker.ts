/**
 * The worker of bench/openai-log-cost.ts: fetches a response with the headers it is asked for, then
 * formats the two log lines the unpatched openai SDK built for every response, `k` times.
 */
// Not among the package's exports; read from node_modules so that this runs the SDK's own code.
import { formatRequestDetails, redactURL } from "../node_modules/openai/internal/utils/log.mjs";

export default {
  async fetch(request: Request): Promise<Response> {
    const params = new URL(request.url).searchParams;
    const times = Number(params.get("k"));
    const response = await fetch(params.get("from")!);
    await response.arrayBuffer();
    let length = 0;
    for (let i = 0; i < times; i++) {
      // As the SDK's makeRequest did: the "succeeded" line, then the "response start" details.
      const specialHeaders = [...response.headers.entries()]
        .filter(([name]) => name === "x-request-id")
        .map(([name, value]) => ", " + name + ": " + JSON.stringify(value))
        .join("");
      const info = `[log_000000${specialHeaders}] post ${redactURL(response.url)} succeeded with status ${response.status} in 3ms`;
      const details = formatRequestDetails({ retryOfRequestLogID: undefined, url: response.url, status: response.status, headers: response.headers, durationMs: 3 });
      // The SDK hands both to a logger that drops them: keep them alive, but do no more with them.
      length += info.length + Object.keys(details).length;
    }
    return new Response(String(length));
  },
};
