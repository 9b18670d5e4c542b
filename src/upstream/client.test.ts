/**
 * The openai SDK as patches/openai+7.57.0.patch leaves it: it formats a response's log lines only
 * at a level that prints them (unpatched, it builds them for every response, headers and URL
 * redacted, and throws them away), and at each level it still logs what it logged before.
 */
import OpenAI from "openai";
import { describe, expect, it } from "vitest";

type Level = "off" | "error" | "warn" | "info" | "debug";

/** Sends one completion at `level` to a stub upstream that answers `status`, and records what the SDK's logger was given. */
async function logged(level: Level, status: number): Promise<{ lines: Array<[string, string]>; details: string; error?: unknown }> {
  const lines: Array<[string, string]> = [];
  const details: unknown[] = [];
  const record = (name: string) => (message: string, ...rest: unknown[]) => {
    lines.push([name, message]);
    details.push(...rest);
  };
  const client = new OpenAI({
    baseURL: "https://upstream.test/v1",
    apiKey: "sk-upstream-secret",
    maxRetries: 0,
    logLevel: level,
    logger: { error: record("error"), warn: record("warn"), info: record("info"), debug: record("debug") },
    fetch: async () =>
      status === 200
        ? Response.json({ id: "c1", object: "chat.completion", created: 0, model: "m", choices: [] }, { headers: { "x-request-id": "req_1", "set-cookie": "session=s3cret" } })
        : Response.json({ error: { message: "bad model", type: "invalid_request_error" } }, { status, headers: { "x-request-id": "req_2" } }),
  });
  try {
    await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
    return { lines, details: JSON.stringify(details) };
  } catch (error) {
    return { lines, details: JSON.stringify(details), error };
  }
}

/** A response that counts how often its headers are walked whole, as formatting a log line of them does. */
class CountedResponse extends Response {
  walks = 0;
  override get headers(): Headers {
    const headers = new Headers(super.headers);
    const count = () => void this.walks++;
    return new (class extends Headers {
      override entries() {
        count();
        return super.entries();
      }
      override [Symbol.iterator]() {
        count();
        return super[Symbol.iterator]();
      }
    })(headers);
  }
}

describe("the openai SDK's response logging", () => {
  it("at the default level, never walks a response's headers to format a line it will not print", async () => {
    const response = new CountedResponse(JSON.stringify({ id: "c1", object: "chat.completion", created: 0, model: "m", choices: [] }), { headers: { "content-type": "application/json" } });
    const client = new OpenAI({ baseURL: "https://upstream.test/v1", apiKey: "k", maxRetries: 0, fetch: async () => response });
    await client.chat.completions.create({ model: "m", messages: [{ role: "user", content: "hi" }] });
    expect(response.walks).toBe(0);
  });

  it.each<Level>(["off", "error", "warn"])("at %s, logs nothing for a completion that succeeds", async (level) => {
    const { lines, error } = await logged(level, 200);
    expect(error).toBeUndefined();
    expect(lines).toEqual([]);
  });

  it("at warn, still throws a failed completion as its typed error", async () => {
    const { lines, error } = await logged("warn", 400);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(error).toMatchObject({ status: 400, message: expect.stringContaining("bad model") });
    expect(lines).toEqual([]);
  });

  it("at info, logs one line per response, with its request id and outcome", async () => {
    const ok = await logged("info", 200);
    expect(ok.lines).toEqual([["info", expect.stringMatching(/req_1.*post https:\/\/upstream\.test\/v1\/chat\/completions succeeded with status 200/)]]);
    const failed = await logged("info", 400);
    expect(failed.lines).toEqual([["info", expect.stringMatching(/req_2.*failed with status 400 in \d+ms - error; not retryable/)]]);
  });

  it("at debug, also logs the response's start with its sensitive headers masked", async () => {
    const { lines, details } = await logged("debug", 200);
    expect(lines.map(([name, message]) => `${name} ${message.replace(/^\[log_\w+\] /, "")}`)).toEqual([
      "debug sending request",
      expect.stringMatching(/^info .*succeeded with status 200/),
      "debug response start",
      "debug response parsed",
    ]);
    expect(details).toContain('"status":200');
    expect(details).toContain('"set-cookie":"[REDACTED]"');
    expect(details).not.toContain("s3cret");
    expect(details).not.toContain("sk-upstream-secret");
  });
});
