import { describe, expect, it } from "vitest";
import { namesEtag } from "./etag";

describe("namesEtag", () => {
  it.each([
    ['"a1"', '"a1"', true],
    ['"b2"', '"a1"', false],
    ['W/"a1"', '"a1"', true],
    ['"zz", "a1"', '"a1"', true],
    ['"zz",W/"a1"', '"a1"', true],
    ['"zz", "yy"', '"a1"', false],
    ["*", '"a1"', true],
    ["*", undefined, false],
    ['"a1"', undefined, false],
    // The quotes are part of the tag: a bare value names nothing.
    ["a1", '"a1"', false],
  ])("%s names %s: %s", (header, etag, expected) => {
    expect(namesEtag(header, etag)).toBe(expected);
  });
});
