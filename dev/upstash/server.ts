import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { BackendUnavailableError, messageOf, RedisReplyError, type Backend, type Reply } from "./backend";
import { createMemoryBackend } from "./memory/backend";
import { createRedisBackend } from "./redis-backend";
import { createReplicatedBackend, type ReplicaSession, type ReplicatedBackend } from "./replicated-backend";
import { encodeReply, type EncodedReply, type ResponseEncoding } from "./reply-encoding";
import { BodyTooLargeError, readBody } from "./request-body";
import { BadRequestError, commandFromJson, commandFromPath, commandsFromJson, parseJsonBody } from "./request-commands";

export interface UpstashServerOptions {
  /** What clients must send as `Authorization: Bearer <token>` or `?_token=<token>`. */
  token: string;
  /** A real redis-server to front; without it the data lives in this process (the embedded backend, memory/). */
  redisUrl?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /**
   * Model Upstash Global: reads served by a replica that applies writes this many ms late, unless
   * the request carries a sync token at least as new (replicated-backend.ts). Off when unset or 0.
   * Over redis-server the replica is the next database, emptied at start.
   */
  replicaLagMs?: number;
}

export interface UpstashServer {
  /** e.g. http://127.0.0.1:40123, for `new Redis({ url, token })`. */
  url: string;
  backend: "redis-server" | "in-memory";
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 10 * 1024 * 1024;

type Route = "command" | "path" | "pipeline" | "multi-exec";

/** An HTTP server speaking Upstash's Redis REST protocol, for local development and tests. */
export async function startUpstashServer(options: UpstashServerOptions): Promise<UpstashServer> {
  if (!options.token) throw new Error("startUpstashServer: a token is required");
  const host = options.host ?? "127.0.0.1";
  const backend = await openBackend(options);
  const server = createServer((request, response) => {
    void respond(request, response, backend, options.token);
  });
  let port: number;
  try {
    port = await listen(server, options.port ?? 0, host);
  } catch (error) {
    await backend.close();
    throw error;
  }
  return {
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`,
    backend: backend.kind,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await backend.close();
    },
  };
}

/** The store: one backend, or a primary and its lagging replica (a session per request). */
async function openBackend(options: UpstashServerOptions): Promise<Backend | ReplicatedBackend> {
  const { redisUrl, replicaLagMs } = options;
  if (!replicaLagMs) return redisUrl ? createRedisBackend(redisUrl) : createMemoryBackend();
  if (!redisUrl) return createReplicatedBackend(createMemoryBackend(), createMemoryBackend(), replicaLagMs);
  // The replica is the next database of the same redis-server, emptied: it holds only what is
  // written after the start (keys already in the primary are not on it).
  const url = new URL(redisUrl);
  url.pathname = `/${(Number(url.pathname.slice(1)) || 0) + 1}`;
  const replica = createRedisBackend(url.toString());
  await replica.exec(["FLUSHDB"]);
  return createReplicatedBackend(createRedisBackend(redisUrl), replica, replicaLagMs);
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address();
      if (address && typeof address === "object") resolve(address.port);
      else reject(new Error("the server has no TCP address"));
    });
  });
}

async function respond(request: IncomingMessage, response: ServerResponse, store: Backend | ReplicatedBackend, token: string): Promise<void> {
  let session: ReplicaSession | undefined;
  let backend: Backend;
  if ("session" in store) backend = session = store.session(header(request, "upstash-sync-token"));
  else backend = store;
  // Every answer says how far the primary is, as Upstash does; clients send it back to read their writes.
  const send = (res: ServerResponse, status: number, payload: unknown) => sendJson(res, status, payload, session ? { "upstash-sync-token": session.token() } : {});
  try {
    const url = new URL(request.url ?? "/", "http://upstash.invalid");
    if (!authorized(request, url, token)) return send(response, 401, { error: "Unauthorized" });
    const routing = routeOf(request.method ?? "GET", url.pathname);
    if (!("route" in routing)) {
      if (routing.allow) response.setHeader("allow", routing.allow);
      return send(response, routing.status, { error: routing.error });
    }
    const body = await readBody(request, MAX_BODY_BYTES);
    const encoding: ResponseEncoding = header(request, "upstash-encoding")?.toLowerCase() === "base64" ? "base64" : "plain";
    const encode = (reply: Reply) => encodeReply(reply, encoding);

    switch (routing.route) {
      case "command":
        return send(response, 200, { result: encode(await backend.exec(commandFromJson(parseJsonBody(body)))) });
      case "path":
        return send(response, 200, { result: encode(await backend.exec(commandFromPath(url.pathname, url.searchParams, body))) });
      case "pipeline":
        return send(response, 200, await pipeline(backend, commandsFromJson(parseJsonBody(body)), encode));
      case "multi-exec":
        return send(response, 200, await transaction(backend, commandsFromJson(parseJsonBody(body)), encode));
    }
  } catch (error) {
    if (response.headersSent) return void response.destroy();
    const status = statusOf(error);
    send(response, status, { error: status === 500 ? `ERR internal error: ${messageOf(error)}` : messageOf(error) });
  }
}

function authorized(request: IncomingMessage, url: URL, token: string): boolean {
  const bearer = /^Bearer\s+(.+)$/i.exec(header(request, "authorization") ?? "")?.[1]?.trim();
  return (bearer ?? url.searchParams.get("_token")) === token;
}

/** Which handler serves the request, or the error to answer with. */
function routeOf(method: string, pathname: string): { route: Route } | { status: number; error: string; allow?: string } {
  const allow = (methods: string, route: Route) =>
    methods.split(", ").includes(method) ? { route } : { status: 405, error: `ERR method ${method} is not allowed on ${pathname}`, allow: methods };
  if (pathname === "/") {
    if (method === "GET") return { status: 400, error: "ERR no command: POST a JSON array to / or use /COMMAND/arg/..." };
    return allow("POST", "command");
  }
  if (pathname === "/pipeline") return allow("POST", "pipeline");
  if (pathname === "/multi-exec") return allow("POST", "multi-exec");
  if (pathname.startsWith("/pipeline/") || pathname.startsWith("/multi-exec/")) return { status: 404, error: `ERR no route for ${pathname}` };
  return allow("GET, POST", "path");
}

/** In order, not atomic; a failing command only fails its own entry. */
async function pipeline(backend: Backend, commands: string[][], encode: (reply: Reply) => EncodedReply) {
  const settled = await Promise.allSettled(commands.map((command) => backend.exec(command)));
  return settled.map((outcome) => {
    if (outcome.status === "fulfilled") return { result: encode(outcome.value) };
    if (outcome.reason instanceof RedisReplyError) return { error: outcome.reason.message };
    throw outcome.reason;
  });
}

async function transaction(backend: Backend, commands: string[][], encode: (reply: Reply) => EncodedReply) {
  const outcomes = await backend.transaction(commands);
  return outcomes.map((outcome) => ("error" in outcome ? outcome : { result: encode(outcome.result) }));
}

function statusOf(error: unknown): number {
  if (error instanceof BadRequestError || error instanceof RedisReplyError) return 400;
  if (error instanceof BodyTooLargeError) return 413;
  if (error instanceof BackendUnavailableError) return 503;
  return 500;
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function sendJson(response: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(payload);
  response.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body), ...headers });
  response.end(body);
}
