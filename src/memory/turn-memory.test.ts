import { describe, expect, it } from "vitest";
import { needsTtlRefresh } from "./turn-memory";

const now = Date.parse("2026-11-25T12:00:00Z");
const hours = (h: number) => h * 3_600_000;

describe("needsTtlRefresh", () => {
  it.each([
    ["no document (nothing to keep alive)", undefined, false],
    ["written a minute ago", now - 60_000, false],
    ["written 23 hours ago", now - hours(23), false],
    ["written 25 hours ago", now - hours(25), true],
    ["written 80 days ago, close to its 90-day expiry", now - hours(24 * 80), true],
  ])("%s", (_, modifiedAt, expected) => {
    expect(needsTtlRefresh(modifiedAt, now)).toBe(expected);
  });
});
