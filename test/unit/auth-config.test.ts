import { describe, expect, it } from "vitest";
import app from "../../src/index";
import type { Env } from "../../src/config";

/**
 * Widget-token settings that cannot work together, as an operator meets them: every request
 * answers 500 config_error naming the setting. Each test runs the worker with an env of its own
 * (configuration is parsed once per env object).
 */
const API_KEY = "unit-config-key";
const SECRET = "unit-config-jwt-secret-of-32-characters!";

const call = (env: Env, path: string, init: RequestInit = {}) => {
  const headers = new Headers(init.headers);
  if (!headers.has("Authorization")) headers.set("Authorization", `Bearer ${API_KEY}`);
  return app.fetch(new Request(`http://proxy.test${path}`, { ...init, headers }), { PROXY_API_KEYS: API_KEY, ...env });
};

async function errorOf(res: Response) {
  return ((await res.json()) as { error: { message: string; code: string | null; param: string | null } }).error;
}

describe("how long widget tokens may live", () => {
  it("refuses to run when minted tokens could outlive JWT_MAX_AGE_SECONDS", async () => {
    const res = await call({ JWT_SECRET: SECRET, JWT_MAX_AGE_SECONDS: "3600" }, "/v1/sessions");
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error.code).toBe("config_error");
    expect(error.message).toContain("WIDGET_TOKEN_MAX_TTL_SECONDS");
    expect(error.message).toContain("JWT_MAX_AGE_SECONDS");
  });

  it("runs with a JWT_MAX_AGE_SECONDS that covers the longest minted lifetime", async () => {
    const res = await call({ JWT_SECRET: SECRET, JWT_MAX_AGE_SECONDS: "3600", WIDGET_TOKEN_MAX_TTL_SECONDS: "3600" }, "/v1/tokens", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ user: "alice", ttl_seconds: 3600 }),
    });
    expect(res.status).toBe(200);
  });
});
