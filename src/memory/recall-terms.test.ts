import { describe, expect, it } from "vitest";
import { recallTerms } from "./recall-terms";

describe("recallTerms", () => {
  it.each([
    ["My order #4471 arrived broken", [["order", 1], ["4471", 1], ["arriv", 1], ["broken", 1]]],
    ["I am moving to Porto in May", [["mov", 1], ["porto", 1], ["may", 1]]],
    ["Moving, moving, moving!", [["mov", 3]]],
    ["Café au lait, São Paulo", [["caf", 1], ["au", 1], ["lait", 1], ["sao", 1], ["paulo", 1]]],
    ["orders and ordered", [["order", 2]]],
    ["the cities", [["city", 1]]],
    ["boxes glasses", [["box", 1], ["glass", 1]]],
    ["", []],
    ["a I 7", [["7", 1]]],
  ])("%j", (text, expected) => {
    expect([...recallTerms(text)]).toEqual(expected);
  });

  it("finds the same term on both sides, whatever the form", () => {
    expect([...recallTerms("We are moving; the orders shipped, boxes arrived")].map(([term]) => term)).toEqual(
      [...recallTerms("move order ship box arrive")].map(([term]) => term),
    );
  });

  it("keeps at most 200 distinct terms of a pasted document", () => {
    const text = Array.from({ length: 500 }, (_, i) => `word${i}`).join(" ");
    expect(recallTerms(text).size).toBe(200);
  });
});
