import { describe, expect, it } from "vitest";
import { estimateTokens } from "./tokens";

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
