import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { scriptFor, type Script } from "./script";

export interface MockLlmOptions {
  host?: string;
  port?: number;
  /** When set, requests must carry `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Before the first byte of every answer. */
  latencyMs?: number;
  /** Between streamed chunks. */
  chunkDelayMs?: number;
}

/**
 * A failure for the next `times` requests whose last message contains `match`, then the script as
 * the message asks: a first attempt fails and its retry, the very same request, does not. Set over
 * HTTP (`POST /__mock/faults`, `DELETE /__mock/faults`) by tests in other processes.
 */
export interface MockFault {
  match: string;
  /** The status to answer with (default 500), or, streaming, a failure event after that many content pieces. */
  status?: number;
  errorEventAfter?: number;
  times?: number;
}

export interface RecordedRequest {
  at: number;
  path: string;
  headers: Record<string, string>;
  body: unknown;
}

export interface MockLlm {
  /** The OpenAI base URL, ending in /v1. */
  url: string;
  requests: RecordedRequest[];
  close(): Promise<void>;
}

const MODELS = ["mock-small", "mock-large", "gpt-4o-mini"];
const RECORD_LIMIT = 2000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { "Content-Type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

function openAiError(message: string, type: string, code: string | null = null) {
  return { error: { message, type, param: null, code } };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

const callId = (index: number) => `call_mock${index + 1}`;

function completionId(): string {
  return `chatcmpl-mock${Math.random().toString(36).slice(2, 12)}`;
}

async function streamCompletion(res: ServerResponse, model: string, script: Script, chunkDelayMs: number, includeUsage: boolean) {
  const id = completionId();
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: object, finish: string | null = null) =>
    `data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  res.write(chunk({ role: "assistant", content: "" }));
  let sent = 0;
  for (const piece of script.pieces) {
    if (script.ending !== "finish" && sent === script.endAfter) break;
    if (chunkDelayMs > 0) await sleep(chunkDelayMs);
    if (res.destroyed) return;
    res.write(chunk({ content: piece }));
    sent++;
  }
  if (script.ending === "drop") {
    res.socket?.destroy();
    return;
  }
  if (script.ending === "stall") return; // leave the connection open and silent
  if (script.ending === "error-event") {
    res.end(`data: ${JSON.stringify(openAiError("The mock model failed mid-stream.", "server_error"))}\n\n`);
    return;
  }
  if (script.toolCall) {
    for (let index = 0; index < script.toolCalls; index++) {
      res.write(chunk({ tool_calls: [{ index, id: callId(index), type: "function", function: { name: script.toolCall.name, arguments: "" } }] }));
      res.write(chunk({ tool_calls: [{ index, function: { arguments: script.toolCall.arguments } }] }));
    }
  }
  res.write(chunk({}, script.toolCall ? "tool_calls" : "stop"));
  if (includeUsage) {
    const completion = script.pieces.length;
    res.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [], usage: { prompt_tokens: 1, completion_tokens: completion, total_tokens: completion + 1 } })}\n\n`);
  }
  res.end("data: [DONE]\n\n");
}

function completion(model: string, script: Script) {
  const content = script.pieces.join("");
  return {
    id: completionId(),
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: script.toolCall
          ? { role: "assistant", content: null, tool_calls: Array.from({ length: script.toolCalls }, (_, i) => ({ id: callId(i), type: "function", function: script.toolCall })) }
          : { role: "assistant", content, refusal: null },
        finish_reason: script.toolCall ? "tool_calls" : "stop",
      },
    ],
    usage: { prompt_tokens: 1, completion_tokens: script.pieces.length, total_tokens: script.pieces.length + 1 },
  };
}

/** The script as a fault changes it. */
function withFault(script: Script, fault: MockFault | undefined): Script {
  if (!fault) return script;
  if (fault.errorEventAfter !== undefined) return { ...script, ending: "error-event", endAfter: fault.errorEventAfter };
  return { ...script, status: fault.status ?? 500 };
}

/**
 * A deterministic OpenAI-compatible model for local development and tests: it answers with what it
 * was shown, streams word by word, and fails on request (see script.ts), recording every request.
 */
export async function startMockLlm(options: MockLlmOptions = {}): Promise<MockLlm> {
  const requests: RecordedRequest[] = [];
  const faults: Array<MockFault & { hits: number }> = [];
  const latencyMs = options.latencyMs ?? 0;
  const chunkDelayMs = options.chunkDelayMs ?? 0;

  const server = createServer(async (req, res) => {
    const path = new URL(req.url ?? "/", "http://mock").pathname;
    if (path === "/__mock/requests") {
      if (req.method === "DELETE") requests.length = 0;
      return sendJson(res, 200, requests);
    }
    if (path === "/__mock/faults") {
      if (req.method === "POST") faults.push({ ...(JSON.parse(await readBody(req)) as MockFault), hits: 0 });
      if (req.method === "DELETE") faults.length = 0;
      res.writeHead(204).end();
      return;
    }
    if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
      return sendJson(res, 401, openAiError("Incorrect API key provided.", "invalid_request_error", "invalid_api_key"));
    }
    if (req.method === "GET" && path === "/v1/models") {
      return sendJson(res, 200, { object: "list", data: MODELS.map((id) => ({ id, object: "model", created: 0, owned_by: "mock" })) });
    }
    if (req.method !== "POST" || path !== "/v1/chat/completions") {
      return sendJson(res, 404, openAiError(`Unknown route ${req.method} ${path}`, "invalid_request_error"));
    }

    let body: { model?: string; messages?: Array<{ role?: unknown; content?: unknown }>; stream?: boolean; stream_options?: { include_usage?: boolean } };
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return sendJson(res, 400, openAiError("Invalid JSON body.", "invalid_request_error"));
    }
    const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
    requests.push({ at: Date.now(), path, headers, body });
    if (requests.length > RECORD_LIMIT) requests.splice(0, requests.length - RECORD_LIMIT);

    const last = JSON.stringify(body.messages?.at(-1)?.content ?? "");
    const fault = faults.find((f) => last.includes(f.match) && f.hits < (f.times ?? 1));
    if (fault) fault.hits++;
    const script = withFault(scriptFor(body), fault);
    const model = body.model ?? MODELS[0]!;
    await sleep(script.delayMs ?? latencyMs);
    if (script.status === 429) {
      return sendJson(res, 429, openAiError("Rate limit reached for mock model.", "rate_limit_error", "rate_limit_exceeded"), { "Retry-After": "7" });
    }
    if (script.status >= 400 && script.status < 500) {
      // As some providers do: the rejection quotes the prompt back, system message first.
      const quoted = JSON.stringify(body.messages?.[0] ?? null).slice(0, 200);
      return sendJson(res, script.status, { error: { message: `Invalid request near ${quoted}`, type: "invalid_request_error", param: "messages", code: "mock_rejected" } });
    }
    if (script.status !== 200) {
      return sendJson(res, script.status, openAiError(`The mock model failed with status ${script.status}.`, "server_error"));
    }
    if (body.stream) return streamCompletion(res, model, script, script.paceMs ?? chunkDelayMs, Boolean(body.stream_options?.include_usage));
    if (script.ending === "drop") {
      // Headers and the first part of the body really leave before the connection is cut: a
      // destroy() right after write() would discard both, and the proxy would see no answer at all.
      res.writeHead(200, { "Content-Type": "application/json" });
      res.flushHeaders();
      res.write('{"id":"chatcmpl-mock","object":"chat.completion","choices":[', () => res.socket?.destroy());
      return;
    }
    if (script.ending === "stall") return;
    return sendJson(res, 200, completion(model, script));
  });

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? "127.0.0.1"}:${port}/v1`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
