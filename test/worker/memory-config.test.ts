import { describe, expect, it } from "vitest";
import app from "../../src/index";
import type { Env } from "../../src/config";
import { errorOf } from "../support/error-of";

/** Memory settings that cannot work together: every request answers 500 config_error naming them. */
const API_KEY = "unit-memory-config-key";
const call = (env: Env) => app.fetch(new Request("http://proxy.test/v1/models", { headers: { Authorization: `Bearer ${API_KEY}` } }), { PROXY_API_KEYS: API_KEY, ...env });

describe("summaries and the storage cap", () => {
  it("refuses to run when what leaves the window could be trimmed before it is summarised", async () => {
    const res = await call({ SUMMARY_MODE: "on", HISTORY_MAX_MESSAGES: "20", HISTORY_MAX_STORED: "39" });
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error.code).toBe("config_error");
    expect(error.message).toContain("HISTORY_MAX_STORED");
    expect(error.message).toContain("HISTORY_MAX_MESSAGES");
  });

  it("runs with room for it, or with summaries off", async () => {
    // Past configuration: this pool has no model provider.
    expect((await errorOf(await call({ SUMMARY_MODE: "on", HISTORY_MAX_MESSAGES: "20", HISTORY_MAX_STORED: "40" }))).code).toBe("upstream_not_configured");
    expect((await errorOf(await call({ HISTORY_MAX_MESSAGES: "20", HISTORY_MAX_STORED: "10" }))).code).toBe("upstream_not_configured");
  });
});
