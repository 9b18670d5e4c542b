import { exports } from "cloudflare:workers";
import { beforeAll, describe, expect, it } from "vitest";

const call = (path: string, init: RequestInit = {}) => exports.default.fetch(new Request(`http://proxy.test${path}`, init));
const chat = (body: unknown, headers: Record<string, string> = {}) =>
  call("/v1/chat/completions", {
    method: "POST",
    headers: { Authorization: "Bearer test-key-2", "X-User-Id": "alice", "Content-Type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });

async function expectError(res: Response, status: number, match: { code?: string; param?: string; type?: string } = {}) {
  expect(res.status).toBe(status);
  expect(res.headers.get("X-Request-Id")).toMatch(/^req_[0-9a-f]{32}$/);
  const body = (await res.json()) as { error: Record<string, unknown> };
  expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
  expect(body.error).toMatchObject(match);
  return body.error;
}

const hello = { messages: [{ role: "user", content: "hi" }] };

describe("requests the proxy refuses before touching memory or the model", () => {
  beforeAll(async () => {
    await call("/healthz"); // the first request of a pool pays for startup
  });

  it.each([
    ["no Authorization header", {}],
    ["a wrong key", { Authorization: "Bearer nope" }],
    ["a key with a valid prefix", { Authorization: "Bearer test-key-" }],
    ["a non-bearer scheme", { Authorization: "Basic dGVzdC1rZXktMQ==" }],
  ])("401 for %s", async (_, headers) => {
    const res = await call("/v1/chat/completions", { method: "POST", headers, body: JSON.stringify(hello) });
    await expectError(res, 401, { type: "authentication_error" });
  });

  it("accepts every configured key (then needs memory, which this pool has not)", async () => {
    const res = await chat(hello, { Authorization: "Bearer test-key-1" });
    await expectError(res, 503, { code: "upstream_not_configured" });
  });

  it.each([
    ["malformed JSON", "{not json", 400, { code: "invalid_json" }],
    ["a JSON array", "[]", 400, {}],
    ["no messages", {}, 400, { param: "messages" }],
    ["an empty messages array", { messages: [] }, 400, { param: "messages" }],
    ["an unknown role", { messages: [{ role: "wizard", content: "x" }] }, 400, { param: "messages[0].role" }],
    ["content of the wrong type", { messages: [{ role: "user", content: 42 }] }, 400, { param: "messages[0].content" }],
    ["a tool message without tool_call_id", { messages: [{ role: "tool", content: "x" }] }, 400, { param: "messages[0].tool_call_id" }],
    ["n > 1", { ...hello, n: 2 }, 400, { param: "n" }],
    ["too many messages", { messages: Array.from({ length: 6 }, () => ({ role: "user", content: "x" })) }, 400, { param: "messages" }],
    ["a message over the byte limit", { messages: [{ role: "user", content: "é".repeat(1500) }] }, 413, { code: "message_too_large" }],
    ["a body over the byte limit", { messages: [{ role: "user", content: "x".repeat(9000) }] }, 413, { code: "request_too_large" }],
    ["a conversation ending with the assistant", { messages: [{ role: "user", content: "x" }, { role: "assistant", content: "y" }] }, 400, { param: "messages" }],
    // 3,000 levels in 6 KB: within every size limit, and once a RangeError deep inside the openai SDK.
    ["JSON nested 3,000 deep", `{"messages":[{"role":"user","content":"x"}],"metadata":${"[".repeat(3000)}${"]".repeat(3000)}}`, 400, { code: "json_too_deep" }],
  ])("400-class for %s", async (_, body, status, match) => {
    await expectError(await chat(body), status, match);
  });

  it.each([
    ["declares its length", (body: string) => ({ "Content-Length": String(body.length) })],
    ["declares a length under the limit and is longer", () => ({ "Content-Length": "100" })],
    ["declares no length", () => ({})],
  ])("413 for a body over the byte limit that %s", async (_, declared) => {
    const body = JSON.stringify({ messages: [{ role: "user", content: "x".repeat(9000) }] });
    await expectError(await chat(body, declared(body)), 413, { code: "request_too_large" });
  });

  it.each([
    ["a user id with a space", { "X-User-Id": "al ice" }, "X-User-Id"],
    ["a user id too long", { "X-User-Id": "u".repeat(129) }, "X-User-Id"],
    ["a session id with a brace", { "X-Session-Id": "s{1}" }, "X-Session-Id"],
    // Path segments to the Cosmos REST API: `/docs/..` is the whole container.
    ["a user id of one dot", { "X-User-Id": "." }, "X-User-Id"],
    ["a user id of two dots", { "X-User-Id": ".." }, "X-User-Id"],
    ["a user id of three dots", { "X-User-Id": "..." }, "X-User-Id"],
    ["a session id of two dots", { "X-Session-Id": ".." }, "X-Session-Id"],
  ])("400 for %s", async (_, headers, param) => {
    await expectError(await chat(hello, headers), 400, { param });
  });

  it("400 when an API-key caller names no user", async () => {
    const res = await call("/v1/chat/completions", {
      method: "POST",
      headers: { Authorization: "Bearer test-key-1" },
      body: JSON.stringify(hello),
    });
    await expectError(res, 400, { code: "missing_user" });
  });

  it("takes `model: null` for no model named, as OpenAI-compatible clients mean it (then needs the upstream)", async () => {
    await expectError(await chat({ ...hello, model: null }), 503, { code: "upstream_not_configured" });
    const responses = await call("/v1/responses", {
      method: "POST",
      headers: { Authorization: "Bearer test-key-2", "X-User-Id": "alice", "Content-Type": "application/json" },
      body: JSON.stringify({ model: null, input: "hi" }),
    });
    await expectError(responses, 503, { code: "upstream_not_configured" });
  });

  it("takes the user from the body's `user` field when there is no header", async () => {
    const res = await call("/v1/chat/completions", {
      method: "POST",
      headers: { Authorization: "Bearer test-key-1" },
      body: JSON.stringify({ ...hello, user: "bob" }),
    });
    await expectError(res, 503); // got past user resolution
  });

  it.each([".", "..", "..."])("400 for a body `user` of only dots (%s)", async (user) => {
    const res = await call("/v1/chat/completions", {
      method: "POST",
      headers: { Authorization: "Bearer test-key-1" },
      body: JSON.stringify({ ...hello, user }),
    });
    await expectError(res, 400, { code: "invalid_id", param: "user" });
  });

  it("answers unknown routes with an OpenAI-shaped 404", async () => {
    await expectError(await call("/v1/nothing-here", { headers: { Authorization: "Bearer test-key-1" } }), 404);
  });

  it("keeps a well-formed X-Request-Id from the caller", async () => {
    const res = await call("/v1/nothing-here", { headers: { "X-Request-Id": "trace-12345678" } });
    expect(res.headers.get("X-Request-Id")).toBe("trace-12345678");
  });

  it("reports readiness honestly when nothing is configured", async () => {
    const res = await call("/readyz");
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: "not_ready", checks: { redis: { status: "not_configured" }, upstream: { status: "not_configured" } } });
  });
});
