import { describe, expect, it } from "vitest";
import { parsePatch } from "./learn-preferences";

const current = { name: "Ada", city: "Porto" };

describe("parsePatch: what an extractor's answer may change", () => {
  it.each([
    ["a new fact", '{"language":"pt-PT"}', { name: "Ada", city: "Porto", language: "pt-PT" }],
    ["a retraction", '{"city":null}', { name: "Ada" }],
    ["nothing learned", "{}", current],
    ["a fenced answer", '```json\n{"tone":"dry"}\n```', { name: "Ada", city: "Porto", tone: "dry" }],
  ])("accepts %s", (_, answer, merged) => {
    expect(parsePatch(answer, current, 8192)).toMatchObject({ merged });
  });

  it.each([
    ["prose", "The user is called Ada.", "not_json"],
    ["broken JSON", '{"name": "Ada"', "not_json"],
    ["an array", '["name"]', "not_an_object"],
    ["a string", '"Ada"', "not_an_object"],
    ["too many keys", JSON.stringify(Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i]))), "too_many_keys"],
    ["too deep", '{"a":{"b":{"c":{"d":1}}}}', "too_deep"],
    ["too large once merged", JSON.stringify({ notes: "x".repeat(9000) }), "too_large"],
  ])("refuses %s", (_, answer, refused) => {
    expect(parsePatch(answer, current, 8192)).toEqual({ refused });
  });
});
