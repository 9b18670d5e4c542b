import { describe, expect, it } from "vitest";
import { isProxyApiKey } from "./api-key";

describe("isProxyApiKey", () => {
  const keys = ["sk-one", "sk-two-is-longer"];

  it.each([
    { presented: "sk-one", expected: true },
    { presented: "sk-two-is-longer", expected: true },
    { presented: "sk-on", expected: false },
    { presented: "sk-one ", expected: false },
    { presented: "", expected: false },
    { presented: "sk-two-is-longer-still", expected: false },
  ])("$presented: $expected", async ({ presented, expected }) => {
    expect(await isProxyApiKey(presented, keys)).toBe(expected);
  });

  it("asks again of each key list: another configuration's keys are its own", async () => {
    expect(await isProxyApiKey("sk-one", keys)).toBe(true);
    expect(await isProxyApiKey("sk-one", ["sk-three"])).toBe(false);
    expect(await isProxyApiKey("sk-three", ["sk-three"])).toBe(true);
  });

  it("accepts no key when none is configured", async () => {
    expect(await isProxyApiKey("sk-one", [])).toBe(false);
  });
});
