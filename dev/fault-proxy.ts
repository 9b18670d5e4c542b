import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A fault to inject into requests whose path and body contain `match` (a user id, say), so tests
 * running side by side each break only their own traffic.
 */
export interface FaultRule {
  match: string;
  /** Only requests to this path (e.g. "/multi-exec"); any path when absent. */
  path?: string;
  /**
   * hang: never answer. error: 500 with an Upstash-style error. reset: close the connection.
   * delay: pass the request on only after `delayMs`, as a paused server would run it late, whether
   * or not its client is still waiting.
   */
  mode: "hang" | "error" | "reset" | "delay";
  delayMs?: number;
  /** How many requests it hits before it is used up (default: unlimited). */
  times?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The request body as sent (the bench replays a turn's exact commands from it). */
  body: string;
}

export interface FaultProxy {
  url: string;
  close(): Promise<void>;
}

async function readAll(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * An HTTP pass-through with fault injection, managed over HTTP (`POST /__faults` with a FaultRule,
 * `DELETE /__faults`) because the tests run in other processes than the one that started it.
 * `GET /__requests?match=` lists the paths of the requests that mentioned `match`, in order, so
 * tests can count round trips.
 */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  const rules: Array<FaultRule & { hits: number }> = [];
  const seen: Array<Omit<RecordedRequest, "body"> & { text: string }> = [];
  const hanging = new Set<ServerResponse>();
  let delayed = 0;
  const upstream = new URL(target);

  const server = createServer(async (req, res) => {
    const body = await readAll(req);
    const path = new URL(req.url ?? "/", "http://proxy").pathname;
    if (path === "/__faults") {
      if (req.method === "POST") rules.push({ ...(JSON.parse(body.toString()) as FaultRule), hits: 0 });
      if (req.method === "DELETE") rules.length = 0;
      res.writeHead(204).end();
      return;
    }
    if (path === "/__delayed") {
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ pending: delayed }));
      return;
    }
    if (path === "/__requests") {
      const query = new URL(req.url ?? "/", "http://proxy").searchParams;
      const matching = seen.filter((r) => r.text.includes(query.get("match") ?? ""));
      const answer = query.has("detail") ? matching.map(({ method, path, headers, text }) => ({ method, path, headers, body: text.slice(path.length + 1) })) : matching.map((r) => r.path);
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(answer));
      return;
    }
    const text = `${path} ${body.toString()}`;
    const headers = Object.fromEntries(Object.entries(req.headers).map(([name, value]) => [name, String(value)]));
    seen.push({ method: req.method ?? "GET", path, headers, text });
    if (seen.length > 10_000) seen.shift();
    const rule = rules.find((r) => text.includes(r.match) && (!r.path || r.path === path) && (r.times === undefined || r.hits < r.times));
    if (rule) {
      rule.hits++;
      if (rule.mode === "hang") {
        hanging.add(res);
        res.on("close", () => hanging.delete(res));
        return;
      }
      if (rule.mode === "reset") {
        req.socket.destroy();
        return;
      }
      if (rule.mode === "error") {
        res.writeHead(500, { "Content-Type": "application/json" }).end(JSON.stringify({ error: "ERR injected fault" }));
        return;
      }
      delayed++;
      await new Promise((resolve) => setTimeout(resolve, rule.delayMs ?? 1000));
    }
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    const settled = rule?.mode === "delay" ? () => delayed-- : () => {};
    forward.on("error", () => {
      settled();
      res.destroy();
    });
    forward.on("response", (answer) => answer.on("end", settled));
    forward.end(body);
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The requests through the proxy that mentioned `match`, in order, with their headers. */
export async function requestDetailsThrough(proxyUrl: string, match: string): Promise<RecordedRequest[]> {
  return (await (await fetch(`${proxyUrl}/__requests?detail=1&match=${encodeURIComponent(match)}`)).json()) as RecordedRequest[];
}

/** The paths of the requests through the proxy that mentioned `match`, in order. */
export async function requestsThrough(proxyUrl: string, match: string): Promise<string[]> {
  return (await (await fetch(`${proxyUrl}/__requests?match=${encodeURIComponent(match)}`)).json()) as string[];
}

/** Adds a fault rule to a running proxy. */
export async function injectFault(proxyUrl: string, rule: FaultRule): Promise<void> {
  const res = await fetch(`${proxyUrl}/__faults`, { method: "POST", body: JSON.stringify(rule) });
  if (res.status !== 204) throw new Error(`fault proxy refused the rule: ${res.status}`);
}

/** How many delayed requests the proxy has not yet passed on and seen answered. */
export async function delayedThrough(proxyUrl: string): Promise<number> {
  return ((await (await fetch(`${proxyUrl}/__delayed`)).json()) as { pending: number }).pending;
}
