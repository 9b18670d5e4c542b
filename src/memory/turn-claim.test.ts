import { describe, expect, it } from "vitest";
import { keysRemembered } from "./append-once";
import { committedValue, parseClaim, parseCommitted } from "./turn-claim";

const reply = JSON.stringify({ role: "assistant", content: "hi" });

describe("parseCommitted", () => {
  it.each([
    ["a value with its fingerprint", committedValue("ab12", reply), "ab12", "hi"],
    ["a value from before fingerprints (the reply alone)", reply, undefined, "hi"],
    ["a reply whose text has spaces", committedValue("ab12", JSON.stringify({ role: "assistant", content: "a b c" })), "ab12", "a b c"],
    ["something that is not a reply", "ab12 not json", "ab12", undefined],
    ["not a string", 42, undefined, undefined],
  ])("reads %s", (_, raw, fingerprint, content) => {
    const committed = parseCommitted(raw);
    expect(committed.fingerprint).toBe(fingerprint);
    expect(committed.reply?.content).toBe(content);
  });
});

describe("parseClaim", () => {
  it("answers a committed key of the same request with its reply, and the value as stored", () => {
    const stored = committedValue("fp", reply);
    expect(parseClaim(["committed", stored], "fp")).toEqual({ state: "committed", reply: { role: "assistant", content: "hi" }, stored });
  });

  it("takes a committed value from before fingerprints for the same request", () => {
    expect(parseClaim(["committed", reply], "fp")).toMatchObject({ state: "committed" });
  });

  it("refuses a committed key of another request", () => {
    expect(parseClaim(["committed", committedValue("other", reply)], "fp")).toEqual({ state: "reused" });
  });

  it("reads the other states", () => {
    expect(parseClaim(["claimed"], "fp")).toEqual({ state: "claimed" });
    expect(parseClaim(["reused"], "fp")).toEqual({ state: "reused" });
    expect(parseClaim(["in_use", "1700000000000"], "fp")).toEqual({ state: "in_use", until: 1700000000000 });
  });

  it.each([
    ["nothing", null],
    ["an unknown state", ["maybe"]],
    ["a deadline that is not a number", ["in_use", "soon"]],
    ["a committed value that is not a reply", ["committed", "fp {"]],
  ])("calls %s unreadable", (_, raw) => {
    expect(parseClaim(raw, "fp")).toEqual({ state: "unreadable" });
  });
});

describe("keysRemembered", () => {
  it("covers every turn the stored messages can hold part of, and never fewer than 64", () => {
    expect(keysRemembered(200)).toBe(101);
    expect(keysRemembered(10_000)).toBe(5001);
    expect(keysRemembered(2)).toBe(64);
  });
});
