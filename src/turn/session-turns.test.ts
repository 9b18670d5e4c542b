import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../config";

describe("where widgets' chat turns run (RESUMABLE_REPLIES)", () => {
  it.each([
    { name: "on wherever the binding is", vars: { SESSION_TURNS: env.SESSION_TURNS }, resumable: true },
    { name: "off when turned off", vars: { SESSION_TURNS: env.SESSION_TURNS, RESUMABLE_REPLIES: "off" }, resumable: false },
    { name: "off without the binding", vars: {}, resumable: false },
  ])("$name", ({ vars, resumable }) => {
    expect(loadConfig(vars).resumable !== undefined).toBe(resumable);
  });

  it("refuses RESUMABLE_REPLIES=widgets without the binding, by name", () => {
    expect(() => loadConfig({ RESUMABLE_REPLIES: "widgets" })).toThrow(/SESSION_TURNS/);
  });
});
