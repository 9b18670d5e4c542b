import { createPrivateKey } from "node:crypto";
import { describe, expect, it } from "vitest";
import { asymmetric, hs256, now, type Claims } from "../support/jwt";
import { proxyFetch, stack, uniqueId } from "../support/context";

const AUD = "concierge-tests";
const ISS = "https://auth.example.test";
const claims = (user: string, extra: Claims = {}): Claims => ({ sub: user, aud: AUD, iss: ISS, iat: now(), exp: now() + 300, ...extra });
const widgetToken = (user: string, extra: Claims = {}) => hs256(claims(user, extra), stack().jwtSecret);
const signingKey = (alg: "RS256" | "ES256") => {
  const key = stack().jwksKeys.find((k) => k.alg === alg)!;
  return { alg, kid: key.kid, privateKey: createPrivateKey(key.privateKeyPem) };
};

/** Addresses of their own (TEST-NET-1), so no other test file's failed logins count against them. */
let ipCounter = 0;
const freshIp = () => `192.0.2.${1 + ((process.pid + ipCounter++) % 250)}`;

const withToken = (token: string, path = "/v1/sessions", headers: Record<string, string> = {}) =>
  proxyFetch(path, { headers: { Authorization: `Bearer ${token}`, "CF-Connecting-IP": freshIp(), ...headers } });

async function errorOf(res: Response) {
  return ((await res.json()) as { error: { message: string; type: string; code: string | null; param: string | null } }).error;
}

describe("the user a widget token names", () => {
  it.each([["."], [".."], ["..."]])("refuses a sub made only of dots (%j): no user has that id", async (sub) => {
    const res = await withToken(widgetToken(sub));
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ type: "authentication_error", code: "invalid_token" });
  });

  it("still accepts a sub with dots among other characters", async () => {
    const res = await withToken(widgetToken(`${uniqueId("a.b")}.c`));
    expect(res.status).toBe(200);
  });
});
