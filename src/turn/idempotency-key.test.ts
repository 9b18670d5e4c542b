import { describe, expect, it } from "vitest";
import { ApiError } from "../http/errors";
import { canonicalJson, idempotencyKey, requestFingerprint } from "./idempotency-key";

describe("idempotencyKey", () => {
  it("takes a bare token or a structured-field string", () => {
    expect(idempotencyKey("abc-123")).toBe("abc-123");
    expect(idempotencyKey(' "8e03978e-40d5" ')).toBe("8e03978e-40d5");
    expect(idempotencyKey(undefined)).toBeUndefined();
  });

  it("refuses a key with spaces or past 255 characters", () => {
    expect(() => idempotencyKey("a b")).toThrow(ApiError);
    expect(() => idempotencyKey("x".repeat(256))).toThrow(ApiError);
  });
});

describe("canonicalJson", () => {
  it("orders object keys, at every depth, and leaves undefined members out", () => {
    expect(canonicalJson({ b: 1, a: [{ d: 2, c: undefined, b: "x" }] })).toBe('{"a":[{"b":"x","d":2}],"b":1}');
    expect(canonicalJson([undefined, null])).toBe("[null,null]");
  });
});

describe("requestFingerprint", () => {
  const turn = [{ role: "user", content: [{ type: "text", text: "hello" }] }];

  it("is the same for the same messages and model, however their keys were ordered", async () => {
    const reordered = [{ content: [{ text: "hello", type: "text" }], role: "user" }];
    expect(await requestFingerprint("mock-small", turn)).toBe(await requestFingerprint("mock-small", reordered));
    expect(await requestFingerprint("mock-small", turn)).toMatch(/^[0-9a-f]{64}$/);
  });

  it("differs for another message or another model", async () => {
    const fingerprint = await requestFingerprint("mock-small", turn);
    expect(await requestFingerprint("mock-large", turn)).not.toBe(fingerprint);
    expect(await requestFingerprint("mock-small", [{ role: "user", content: "hello" }])).not.toBe(fingerprint);
  });
});
