import { describe, expect, it } from "vitest";
import { TOKEN_CORPUS } from "./token-corpus";
import { estimateMessageTokens, estimateTokens } from "./tokens";

describe("estimateTokens", () => {
  it.each([
    // [text, at least, at most]: real cl100k/o200k counts sit inside these ranges.
    ["", 0, 0],
    ["Hello, how are you today?", 6, 8], // 7 tokens
    ["The quick brown fox jumps over the lazy dog. ".repeat(20), 200, 260], // 200 tokens
    ["今日はいい天気ですね", 8, 12], // about 8 tokens: never under-count CJK as English
    ["Привет, как дела?", 6, 10], // 6 tokens
    ["🙂🙂🙂", 3, 6],
  ])("%j is estimated generously but not wildly", (text, min, max) => {
    const estimate = estimateTokens(text);
    expect(estimate).toBeGreaterThanOrEqual(min);
    expect(estimate).toBeLessThanOrEqual(max);
  });
});

describe("the estimate against the exact o200k tokenizer (TOKENIZER=exact)", () => {
  it("never under-counts by more than 5%, nor over-counts by more than 1.4x, on any kind of text", async () => {
    const { countTokens } = await import("gpt-tokenizer/encoding/o200k_base");
    const rows = Object.entries(TOKEN_CORPUS).map(([kind, text]) => {
      const estimate = estimateTokens(text);
      const exact = countTokens(text);
      return { kind, estimate, exact, ratio: Number((estimate / exact).toFixed(2)) };
    });
    console.table(rows); // the figures the README quotes
    for (const row of rows) {
      expect(row.ratio, row.kind).toBeGreaterThanOrEqual(0.95);
      expect(row.ratio, row.kind).toBeLessThanOrEqual(1.4);
    }
  });
});
