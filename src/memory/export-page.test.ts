import { describe, expect, it } from "vitest";
import { InvalidRequestError } from "../http/errors";
import { decodeCursor, encodeCursor, type ExportCursor } from "./export-page";

describe("export cursors", () => {
  const cases: Array<[string, ExportCursor]> = [
    ["after a whole session", { score: 1_765_000_000_000, id: "trip", position: undefined }],
    ["inside a session", { score: 1_765_000_000_123, id: "s_0f3a", position: 4711 }],
    ["at its first message", { score: 0, id: "a:b.c-d_e", position: 0 }],
    ["an id of 128 characters", { score: 42, id: "x".repeat(128), position: 12 }],
  ];
  it.each(cases)("round-trip %s, as URL-safe text", (_, cursor) => {
    const encoded = encodeCursor(cursor);
    expect(encoded).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(encoded)).toEqual(cursor);
  });

  it("round-trip the cursor of recall's pages, which follow the sessions'", () => {
    expect(decodeCursor(encodeCursor({ memoriesAfter: 42 }))).toEqual({ memoriesAfter: 42 });
    expect(decodeCursor(encodeCursor({ memoriesAfter: 0 }))).toEqual({ memoriesAfter: 0 });
  });

  it.each([
    ["empty", ""],
    ["a recall cursor without its id", btoa("m:")],
    ["not base64", "%%%"],
    ["base64 of something else", btoa("hello")],
    ["a negative score", btoa("-1::trip")],
    ["an id no session can have", btoa("1::../other")],
    ["no id", btoa("1:2:")],
  ])("refuse %s with a 400 naming the cursor", (_, text) => {
    expect(() => decodeCursor(text)).toThrow(InvalidRequestError);
    try {
      decodeCursor(text);
    } catch (error) {
      expect(error).toMatchObject({ status: 400, param: "cursor", code: "invalid_cursor" });
    }
  });
});
