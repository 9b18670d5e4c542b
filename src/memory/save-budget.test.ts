import { describe, expect, it } from "vitest";
import type { ChatMessage } from "../messages/schema";
import { utf8Length } from "../http/utf8";
import { assertTurnFits, fitSave, SAVE_BUDGET_BYTES, savedSize, truncateText } from "./save-budget";

const user = (content: string): ChatMessage => ({ role: "user", content });
const total = (messages: ChatMessage[]) => messages.reduce((sum, m) => sum + savedSize(m), 0);

describe("the save budget (Upstash takes at most 1 MB a request)", () => {
  it("counts escapes twice: a stored message is JSON inside JSON", () => {
    expect(savedSize(user('"'))).toBeGreaterThan(savedSize(user("a")) + 2);
  });

  it("cuts long text at a character boundary, within the limit, and says so", () => {
    const text = "日本語".repeat(1000);
    const cut = String(truncateText(user(text), 100).content);
    expect(utf8Length(cut)).toBeLessThanOrEqual(100);
    expect(cut.endsWith(" …[truncated]")).toBe(true);
    expect(text.startsWith(cut.slice(0, -" …[truncated]".length))).toBe(true);
    expect(truncateText(user("short"), 100)).toEqual(user("short"));
  });

  it("keeps the turn whole and as much recent seed as fits", () => {
    const seed = Array.from({ length: 40 }, (_, i) => user(`${i} ${"x".repeat(30_000)}`));
    const turn = [user("new"), { role: "assistant", content: "reply" } as ChatMessage];
    const saved = fitSave(seed, turn, 65_536, 200);
    expect(saved.slice(-2)).toEqual(turn);
    expect(total(saved)).toBeLessThanOrEqual(SAVE_BUDGET_BYTES);
    const earliest = Number(String(saved[0]!.content).split(" ")[0]);
    expect(earliest).toBeGreaterThan(0); // the oldest had to go
    expect(saved.slice(0, -2).map((m) => Number(String(m.content).split(" ")[0]))).toEqual(
      Array.from({ length: saved.length - 2 }, (_, i) => earliest + i),
    );
  });

  it("respects the storage cap too", () => {
    const seed = Array.from({ length: 10 }, (_, i) => user(String(i)));
    expect(fitSave(seed, [user("new")], 1000, 4).map((m) => m.content)).toEqual(["7", "8", "9", "new"]);
  });

  it("cuts an overlong reply rather than failing the save", () => {
    const reply: ChatMessage = { role: "assistant", content: '"'.repeat(500_000) };
    const saved = fitSave([], [user("q"), reply], 65_536, 200);
    expect(total(saved)).toBeLessThan(SAVE_BUDGET_BYTES);
    expect(String(saved[1]!.content).endsWith("[truncated]")).toBe(true);
  });

  it("fails, rather than exceed the budget, on a reply whose tool calls alone are too large", () => {
    const calls = Array.from({ length: 3000 }, (_, i) => ({ id: `call_${i}`, type: "function", function: { name: "lookup", arguments: `{"query":"${"q".repeat(400)}"}` } }));
    const reply: ChatMessage = { role: "assistant", content: null, tool_calls: calls };
    expect(() => fitSave([], [user("q"), reply], 65_536, 200)).toThrow(/too large to remember/);
    const few: ChatMessage = { role: "assistant", content: null, tool_calls: calls.slice(0, 10) };
    expect(fitSave([], [user("q"), few], 65_536, 200)).toHaveLength(2);
  });

  it("refuses up front a turn too large to remember", () => {
    expect(() => assertTurnFits([user('"'.repeat(300_000))], 65_536)).toThrow(/too large to remember/);
    expect(() => assertTurnFits([user("fine")], 65_536)).not.toThrow();
  });
});
