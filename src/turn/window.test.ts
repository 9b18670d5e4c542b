import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../messages/schema";
import { TOKEN_CORPUS } from "../messages/token-corpus";
import { estimateMessageTokens } from "../messages/tokens";
import { slideWindow, type WindowInput } from "./window";
import { ApiError } from "../http/errors";

const system: ChatMessage = { role: "system", content: "You are a helpful assistant." };
const user = (n: number | string): ChatMessage => ({ role: "user", content: `u${n}` });
const assistant = (n: number | string): ChatMessage => ({ role: "assistant", content: `a${n}` });
const call = (id: string): ChatMessage => ({
  role: "assistant",
  content: null,
  tool_calls: [{ id, type: "function", function: { name: "lookup", arguments: "{}" } }],
});
const result = (id: string): ChatMessage => ({ role: "tool", tool_call_id: id, content: `r${id}` });
/** Legacy function calling: the assistant's function_call, then a `function` message with its result. */
const legacyCall: ChatMessage = { role: "assistant", content: null, function_call: { name: "lookup", arguments: "{}" } };
const legacyResult: ChatMessage = { role: "function", name: "lookup", content: "found" };

/** Five user/assistant exchanges: u1 a1 ... u5 a5. */
const exchanges = (n: number) => Array.from({ length: n }, (_, i) => [user(i + 1), assistant(i + 1)]).flat();
const labels = (messages: ChatMessage[]) =>
  messages.map((m) => (m.role === "system" ? "S" : m.role === "tool" ? `t:${m.tool_call_id}` : m.role === "function" ? `f:${m.name}` : m.content === null ? "call" : String(m.content)));
const tokensOf = (messages: ChatMessage[]) => messages.reduce((sum, m) => sum + estimateMessageTokens(m), 0);

const BIG = 1_000_000;

interface Case {
  rule: string;
  input: Omit<WindowInput, "system" | "maxTokens"> & { maxTokens?: number };
  window: string[];
  kept: number;
  dropped: number;
}

const cases: Case[] = [
  {
    rule: "everything fits: nothing is dropped",
    input: { history: exchanges(2), newTurn: [user("new")], maxMessages: 20 },
    window: ["S", "u1", "a1", "u2", "a2", "unew"],
    kept: 4,
    dropped: 0,
  },
  {
    rule: "the message cap counts the system message",
    input: { history: exchanges(5), newTurn: [user("new")], maxMessages: 6 },
    window: ["S", "u4", "a4", "u5", "a5", "unew"],
    kept: 4,
    dropped: 6,
  },
  {
    rule: "the window starts at a user message even when the cap would allow one more",
    input: { history: exchanges(5), newTurn: [user("new")], maxMessages: 5 },
    window: ["S", "u5", "a5", "unew"],
    kept: 2,
    dropped: 8,
  },
  {
    rule: "no history at all when only the new turn fits the cap",
    input: { history: exchanges(3), newTurn: [user("new")], maxMessages: 2 },
    window: ["S", "unew"],
    kept: 0,
    dropped: 6,
  },
  {
    rule: "the new turn is kept even beyond the message cap",
    input: { history: exchanges(1), newTurn: [user("x"), user("y"), user("z")], maxMessages: 2 },
    window: ["S", "ux", "uy", "uz"],
    kept: 0,
    dropped: 2,
  },
  {
    rule: "a tool call and its results are dropped together with their exchange",
    input: {
      history: [user(1), call("c1"), result("c1"), assistant(1), user(2), assistant(2)],
      newTurn: [user("new")],
      maxMessages: 6,
    },
    window: ["S", "u2", "a2", "unew"],
    kept: 2,
    dropped: 4,
  },
  {
    rule: "a tool call and its results are kept together with their exchange",
    input: {
      history: [user(0), assistant(0), user(1), call("c1"), result("c1"), assistant(1)],
      newTurn: [user("new")],
      maxMessages: 6,
    },
    window: ["S", "u1", "call", "t:c1", "a1", "unew"],
    kept: 4,
    dropped: 2,
  },
  {
    rule: "tool results in the new turn bring their call and the user message that led to it",
    input: {
      history: [user(1), assistant(1), user(2), call("c2")],
      newTurn: [result("c2")],
      maxMessages: 2,
    },
    window: ["S", "u2", "call", "t:c2"],
    kept: 2,
    dropped: 2,
  },
  {
    rule: "a legacy function result in the new turn brings its function_call and the user message that led to it",
    input: { history: [user(1), assistant(1), user(2), legacyCall], newTurn: [legacyResult], maxMessages: 2 },
    window: ["S", "u2", "call", "f:lookup"],
    kept: 2,
    dropped: 2,
  },
  {
    rule: "history that opens with an orphaned legacy function result is cut at the next user message",
    input: { history: [legacyResult, assistant(0), user(1), assistant(1)], newTurn: [user("new")], maxMessages: 20 },
    window: ["S", "u1", "a1", "unew"],
    kept: 2,
    dropped: 2,
  },
  {
    rule: "history that opens with orphaned tool results (storage cap cut its call) is cut at the next user message",
    input: {
      history: [result("c0"), assistant(0), user(1), assistant(1)],
      newTurn: [user("new")],
      maxMessages: 20,
    },
    window: ["S", "u1", "a1", "unew"],
    kept: 2,
    dropped: 2,
  },
  {
    rule: "history that opens with an assistant greeting is kept whole when it fits",
    input: { history: [assistant("hello"), user(1), assistant(1)], newTurn: [user("new")], maxMessages: 20 },
    window: ["S", "ahello", "u1", "a1", "unew"],
    kept: 3,
    dropped: 0,
  },
];

describe("slideWindow", () => {
  it.each(cases)("$rule", ({ input, window, kept, dropped }) => {
    const out = slideWindow({ system, maxTokens: BIG, ...input });
    expect(labels(out.messages)).toEqual(window);
    expect(out.kept).toBe(kept);
    expect(out.dropped).toBe(dropped);
    expect(out.estimatedTokens).toBe(tokensOf(out.messages));
  });

  it("drops the oldest exchanges first when the token budget binds", () => {
    const history = exchanges(5);
    const newTurn = [user("new")];
    // Budget for system + the last two exchanges + the new turn, and not one token more.
    const budget = tokensOf([system, ...history.slice(6), ...newTurn]);
    const out = slideWindow({ system, history, newTurn, maxMessages: 100, maxTokens: budget });
    expect(labels(out.messages)).toEqual(["S", "u4", "a4", "u5", "a5", "unew"]);
    expect(out.estimatedTokens).toBeLessThanOrEqual(budget);

    const tighter = slideWindow({ system, history, newTurn, maxMessages: 100, maxTokens: budget - 1 });
    expect(labels(tighter.messages)).toEqual(["S", "u5", "a5", "unew"]);
  });

  it("refuses a new turn that alone exceeds the budget with context_length_exceeded", () => {
    const newTurn: ChatMessage[] = [{ role: "user", content: "x".repeat(10_000) }];
    const attempt = () => slideWindow({ system, history: exchanges(2), newTurn, maxMessages: 20, maxTokens: 1000 });
    expect(attempt).toThrow(ApiError);
    try {
      attempt();
    } catch (error) {
      expect((error as ApiError).status).toBe(400);
      expect((error as ApiError).code).toBe("context_length_exceeded");
    }
  });

  it("refuses tool results whose required call no longer fits the budget", () => {
    const history: ChatMessage[] = [{ role: "user", content: "y".repeat(8000) }, call("c1")];
    expect(() => slideWindow({ system, history, newTurn: [result("c1")], maxMessages: 20, maxTokens: 1000 })).toThrow(
      /HISTORY_MAX_TOKENS/,
    );
  });

  it("never drops the system message, however small the budget", () => {
    const out = slideWindow({ system, history: exchanges(3), newTurn: [user("new")], maxMessages: 20, maxTokens: tokensOf([system, user("new")]) });
    expect(labels(out.messages)).toEqual(["S", "unew"]);
  });
});

describe("the window with TOKENIZER=exact", () => {
  it("counts with the exact tokenizer it is given", async () => {
    const { countTokens } = await import("gpt-tokenizer/encoding/o200k_base");
    const text = TOKEN_CORPUS["tool-call JSON"]!;
    const message = { role: "user" as const, content: text };
    expect(estimateMessageTokens(message, countTokens)).toBe(4 + countTokens(text));
    const window = slideWindow({ system: { role: "system", content: "Be brief." }, history: [], newTurn: [message], maxMessages: 20, maxTokens: 8000, countTokens });
    expect(window.estimatedTokens).toBe(4 + countTokens("Be brief.") + 4 + countTokens(text));
  });
});

describe("the window with recalled excerpts", () => {
  const recall: ChatMessage = { role: "system", content: `Excerpts: ${"r".repeat(400)}` };
  const history = exchanges(5);

  it("puts them after the system message and counts them in the budget, so less history fits", () => {
    const budget = tokensOf([system, recall, user("new")]) + tokensOf(history.slice(6));
    const window = slideWindow({ system, recall, history, newTurn: [user("new")], maxMessages: BIG, maxTokens: budget });
    expect(window.recalled).toBe(true);
    expect(labels(window.messages)).toEqual(["S", "S", "u4", "a4", "u5", "a5", "unew"]);
    expect(window.estimatedTokens).toBeLessThanOrEqual(budget);
  });

  it("leaves them out when the new turn alone would not fit beside them", () => {
    const budget = tokensOf([system, user("new")]) + 10;
    const window = slideWindow({ system, recall, history: [], newTurn: [user("new")], maxMessages: BIG, maxTokens: budget });
    expect(window.recalled).toBe(false);
    expect(labels(window.messages)).toEqual(["S", "unew"]);
  });

  it("count as a message against HISTORY_MAX_MESSAGES", () => {
    const window = slideWindow({ system, recall, history, newTurn: [user("new")], maxMessages: 6, maxTokens: BIG });
    expect(labels(window.messages)).toEqual(["S", "S", "u5", "a5", "unew"]);
  });
});
