import { describe, expect, it } from "vitest";
import { estimateTokens } from "../messages/tokens";
import { capSummary, summaryRequest } from "./summary-prompt";
import { formatSummary, parseSummary } from "./summary-record";

describe("the stored summary", () => {
  it("keeps its text and watermark together", () => {
    expect(parseSummary(formatSummary({ text: "Ada is going to Lisbon", upTo: 12 }))).toEqual({ text: "Ada is going to Lisbon", upTo: 12 });
  });

  it.each([
    ["nothing stored", null],
    ["not JSON", "Ada is going to Lisbon"],
    ["no watermark", JSON.stringify({ text: "x" })],
    ["a negative watermark", JSON.stringify({ text: "x", up_to: -1 })],
    ["a fractional watermark", JSON.stringify({ text: "x", up_to: 1.5 })],
    ["text that is not text", JSON.stringify({ text: 42, up_to: 1 })],
  ])("reads %s as no summary", (_, raw) => {
    expect(parseSummary(raw)).toBeUndefined();
  });
});

describe("the summariser's request", () => {
  it("gives the previous summary and the new messages as a transcript", () => {
    const [system, user] = summaryRequest("Ada likes trains.", [
      { role: "user", content: "Book me one to Porto" },
      { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "book", arguments: "{}" } }] },
    ]);
    expect(system!.role).toBe("system");
    expect(user!.content).toBe("Previous summary:\nAda likes trains.\n\nNew messages:\nuser: Book me one to Porto\nassistant:  [called book]");
  });

  it.each([
    ["English", "Ada likes trains and lives in Porto. ".repeat(40)],
    ["Japanese", "東京の天気は晴れです。".repeat(60)],
    ["digits", "2026-12-06 14:25, ".repeat(80)],
    ["emoji", "🚆".repeat(300)],
  ])("caps a summary a model made too long, in tokens as the window counts them: %s", (_, text) => {
    const capped = capSummary(text, 64);
    expect(estimateTokens(capped)).toBeLessThanOrEqual(64);
    // Cut near the cap, not far short of it.
    expect(estimateTokens(text.slice(0, capped.length - 1))).toBeGreaterThan(56);
    expect(capped.endsWith(" …")).toBe(true);
    expect(capped).not.toMatch(/[\uD800-\uDBFF] …$/);
  });

  it("leaves a summary within its cap as it is", () => {
    expect(capSummary("  short  ", 10)).toBe("short");
  });
});
