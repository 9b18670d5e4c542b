/**
 * The stack's worker runs under `wrangler dev`, whose proxy keeps a pool of connections to the
 * worker. When one has idled for about 5 s, the runtime's client and server time it out at the same
 * moment, and a request the proxy writes to it is lost before the worker sees it
 * (cloudflare/workers-sdk#14641). The proxy then answers a POST with a 503 that says "Your worker
 * restarted mid-request", though nothing restarted. Newer wrangler sends such a request again
 * itself (workers-sdk#15252), but needs Node 22; until the stack can run it, the tests do what it
 * does: once, for that exact answer of the proxy's and nothing else (the worker's own 503s are JSON).
 */
const LOST_BY_THE_PROXY = "Your worker restarted mid-request.";

const fetchOnce = globalThis.fetch;

async function lostByTheProxy(res: Response): Promise<boolean> {
  if (res.status !== 503 || res.headers.get("Content-Type")?.includes("json")) return false;
  return (await res.clone().text()).startsWith(LOST_BY_THE_PROXY);
}

globalThis.fetch = async (input, init) => {
  const res = await fetchOnce(input, init);
  // A Request or a stream as the body has been read by the first attempt: nothing to send again.
  const resendable = !(input instanceof Request) && !(init?.body instanceof ReadableStream);
  if (!resendable || !(await lostByTheProxy(res))) return res;
  console.warn(`dev proxy lost ${init?.method ?? "GET"} ${String(input)} on a stale connection (workers-sdk#14641); sent again`);
  return fetchOnce(input, init);
};
