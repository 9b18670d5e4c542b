import { countTokens } from "gpt-tokenizer/encoding/o200k_base";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Env } from "../../src/config";
import app from "../../src/index";

/**
 * TOKENIZER=exact as the worker runs it: the tokenizer module is loaded on the first turn and the
 * window counts with it. The upstream is a stubbed fetch; nothing is stored (X-Session-Store: false).
 */
const env: Env = { PROXY_API_KEYS: "unit-tokenizer-key", OPENAI_BASE_URL: "https://upstream.test/v1", RATE_LIMIT_REQUESTS: "0" };
const ctx = { waitUntil: () => {}, passThroughOnException: () => {}, props: {} } as unknown as ExecutionContext;
const completion = { id: "c", object: "chat.completion", created: 1, model: "m", choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }] };

const turn = (tokenizer: string, text: string) =>
  app.fetch(
    new Request("http://proxy.test/v1/chat/completions", {
      method: "POST",
      headers: { Authorization: "Bearer unit-tokenizer-key", "X-User-Id": "alice", "X-Session-Store": "false", "Content-Type": "application/json" },
      body: JSON.stringify({ messages: [{ role: "user", content: text }] }),
    }),
    { ...env, TOKENIZER: tokenizer },
    ctx,
  );

afterEach(() => vi.restoreAllMocks());

describe("TOKENIZER", () => {
  it("exact: the prompt's tokens are counted by o200k, loaded on the first turn", async () => {
    vi.spyOn(globalThis, "fetch").mockImplementation(async () => Response.json(completion));
    const text = "Trip booked ✈️🌍! Packing 🧳👕👖🧦 and snacks 🥐🧀🍷";
    const res = await turn("exact", text);
    expect(res.status).toBe(200);
    const system = "You are a helpful assistant.";
    expect(Number(res.headers.get("X-Prompt-Tokens-Estimated"))).toBe(4 + countTokens(system) + 4 + countTokens(text));
  });

  it("refuses a value it does not know, naming the setting", async () => {
    const res = await turn("magic", "hi");
    expect(res.status).toBe(500);
    expect(await res.text()).toContain("TOKENIZER");
  });
});
