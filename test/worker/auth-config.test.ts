import { afterEach, describe, expect, it, vi } from "vitest";
import app from "../../src/index";
import type { Env } from "../../src/config";
import { errorOf } from "../support/error-of";

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

describe("identity-provider tokens need an audience", () => {
  it("refuses to run with JWT_JWKS_URL and no JWT_AUDIENCE: a token minted for another app would pass", async () => {
    const res = await call({ JWT_JWKS_URL: "https://idp.test/.well-known/jwks.json" }, "/v1/sessions");
    expect(res.status).toBe(500);
    const error = await errorOf(res);
    expect(error.code).toBe("config_error");
    expect(error.message).toContain("JWT_AUDIENCE");
  });

  it("runs with both", async () => {
    const res = await call({ JWT_JWKS_URL: "https://idp.test/.well-known/jwks.json", JWT_AUDIENCE: "my-app" }, "/v1/sessions");
    expect((await errorOf(res)).code).toBe("missing_user"); // past configuration
  });

  it("does not need one for tokens we mint ourselves (JWT_SECRET alone)", async () => {
    const res = await call({ JWT_SECRET: SECRET }, "/v1/sessions");
    expect((await errorOf(res)).code).toBe("missing_user");
  });
});

describe("the models a widget may use without ALLOWED_MODELS", () => {
  const widgets: Env = { JWT_SECRET: SECRET, DEFAULT_MODEL: "cheap-model" };
  async function widgetToken(): Promise<string> {
    const res = await call(widgets, "/v1/tokens", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ user: "alice" }) });
    return ((await res.json()) as { token: string }).token;
  }
  const chat = async (model: string | undefined) =>
    call(widgets, "/v1/chat/completions", {
      method: "POST",
      headers: { Authorization: `Bearer ${await widgetToken()}`, "Content-Type": "application/json" },
      body: JSON.stringify({ ...(model ? { model } : {}), messages: [{ role: "user", content: "hi" }] }),
    });

  it("are DEFAULT_MODEL alone: another model, an expensive one say, is refused", async () => {
    const res = await chat("gpt-5-expensive");
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: "model_not_allowed", param: "model" });
  });

  it("DEFAULT_MODEL, named or not, passes (to the provider, which this pool has not)", async () => {
    for (const model of ["cheap-model", undefined]) expect((await errorOf(await chat(model))).code).toBe("upstream_not_configured");
  });

  it("and /v1/models lists just that", async () => {
    const res = await call(widgets, "/v1/models");
    expect(((await res.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual(["cheap-model"]);
  });

  describe("without widget tokens", () => {
    afterEach(() => vi.unstubAllGlobals());

    it("/v1/models is the provider's own list", async () => {
      vi.stubGlobal("fetch", async () => Response.json({ object: "list", data: [{ id: "a", object: "model" }, { id: "b", object: "model" }] }));
      const res = await call({ OPENAI_BASE_URL: "https://provider.test/v1", OPENAI_API_KEY: "k" }, "/v1/models");
      expect(((await res.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual(["a", "b"]);
    });
  });
});
