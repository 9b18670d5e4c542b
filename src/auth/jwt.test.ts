import { Jwt } from "hono/utils/jwt";
import { describe, expect, it } from "vitest";
import type { Config } from "../config";
import { verifyWidgetToken, WidgetTokenError, type RefusalReason } from "./jwt";

const SECRET = "unit-test-secret-0123456789abcdef0123456789";
const auth: Config["auth"] = {
  apiKeys: [],
  jwtSecret: SECRET,
  jwksUrl: undefined,
  audience: undefined,
  issuer: undefined,
  tokenTtlSeconds: 900,
  tokenMaxTtlSeconds: 86_400,
  maxAgeSeconds: 86_400,
};

const now = () => Math.floor(Date.now() / 1000);
const token = (claims: Record<string, unknown>, secret = SECRET) => Jwt.sign({ sub: "alice", iat: now(), exp: now() + 300, ...claims }, secret, "HS256");

async function refusal(signed: Promise<string>): Promise<RefusalReason | "accepted"> {
  try {
    await verifyWidgetToken(await signed, auth);
    return "accepted";
  } catch (error) {
    if (error instanceof WidgetTokenError) return error.reason;
    throw error;
  }
}

describe("verifyWidgetToken", () => {
  it.each<[string, () => Promise<string>, RefusalReason | "accepted"]>([
    ["a valid token", () => token({}), "accepted"],
    // Minted on a clock a few seconds ahead of ours: honest, not refused.
    ["iat and nbf a little ahead of our clock", () => token({ iat: now() + 5, nbf: now() + 30 }), "accepted"],
    ["an expired token", () => token({ exp: now() - 5 }), "expired"],
    ["nbf well in the future", () => token({ nbf: now() + 600 }), "not_yet_valid"],
    ["iat well in the future", () => token({ iat: now() + 600 }), "not_yet_valid"],
    // The signature first: a forgery is a failed guess whatever its claims say, never a routine expiry.
    ["a forged token whose exp has passed", () => token({ exp: now() - 5 }, "not-the-secret-0123456789abcdef0123456789"), "bad_signature"],
    ["a forged token not valid yet", () => token({ nbf: now() + 600 }, "not-the-secret-0123456789abcdef0123456789"), "bad_signature"],
    ["no exp", () => token({ exp: undefined }), "no_exp"],
    ["exp as a string", () => token({ exp: String(now() + 300) }), "malformed"],
    ["nbf as a string", () => token({ nbf: "soon" }), "malformed"],
    ["exp a thousand years ahead", () => token({ exp: now() + 1000 * 365 * 86_400 }), "too_long_lived"],
    ["iat more than the maximum age back", () => token({ iat: now() - 86_400 - 3600 }), "too_long_lived"],
    ["a sub that is only dots", () => token({ sub: ".." }), "invalid_sub"],
  ])("%s", async (_, make, expected) => {
    expect(await refusal(make())).toBe(expected);
  });

  it("counts only honest expiries and early tokens as routine", () => {
    expect(new WidgetTokenError("expired").routine).toBe(true);
    expect(new WidgetTokenError("not_yet_valid").routine).toBe(true);
    expect(new WidgetTokenError("bad_signature").routine).toBe(false);
  });
});
