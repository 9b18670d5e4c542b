import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
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

const workerLog = () => readFileSync(stack().workerLogFile, "utf8");

/** The worker's log line for one request and event, once it has been written. */
async function logLineOf(requestId: string, event: string): Promise<string> {
  const find = () => workerLog().split("\n").find((line) => line.includes(requestId) && line.includes(`"event":"${event}"`));
  await expect.poll(find, { timeout: 5000 }).toBeDefined();
  return find()!;
}

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

describe("what a refused widget token leaves in the log", () => {
  it("a fixed, short reason, never text from the token, however large", async () => {
    const huge = `HUGE-ALG-${"Z".repeat(20_000)}`;
    const res = await withToken(hs256(claims("victim"), stack().jwtSecret, { alg: huge }));
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: "invalid_token" });

    const line = await logLineOf(res.headers.get("X-Request-Id")!, "widget_token_refused");
    expect(line.length).toBeLessThan(300);
    expect(line).not.toContain("HUGE-ALG");
    const logged = JSON.parse(line.slice(line.indexOf("{"))) as { reason: string };
    expect(logged.reason).toMatch(/^[a-z_]{1,40}$/);
    expect(workerLog()).not.toContain("ZZZZZZZZZZZZZZZZ");
  });
});

describe("the reasons a refused widget token is logged with", () => {
  it.each([
    ["bad_signature", () => hs256(claims("victim"), "not-the-secret-not-the-secret-not-the")],
    ["wrong_audience", () => widgetToken("victim", { aud: "another-app" })],
    ["wrong_issuer", () => widgetToken("victim", { iss: "https://evil.example" })],
    ["no_exp", () => widgetToken("victim", { exp: undefined })],
    ["invalid_sub", () => widgetToken("vic tim")],
    ["unknown_key", () => asymmetric(claims("victim"), { ...signingKey("RS256"), kid: "rogue" })],
    ["algorithm_not_accepted", () => hs256(claims("victim"), stack().jwtSecret, { alg: "HS512" })],
  ])("%s", async (reason, make) => {
    const res = await withToken(make());
    expect(res.status).toBe(401);
    const line = await logLineOf(res.headers.get("X-Request-Id")!, "widget_token_refused");
    expect(JSON.parse(line.slice(line.indexOf("{")))).toMatchObject({ reason });
  });
});

describe("how long an accepted token may live (JWT_MAX_AGE_SECONDS, here its default: a day)", () => {
  const DAY = 86_400;

  it.each([
    ["an identity provider's token that expires in 1e300 seconds", () => asymmetric(claims("victim", { exp: 1e300 }), signingKey("RS256"))],
    ["a token that expires more than a day from now", () => widgetToken("victim", { exp: now() + DAY + 3600 })],
    ["a token issued more than a day ago, however far its exp", () => widgetToken("victim", { iat: now() - DAY - 3600, exp: now() + 60 })],
  ])("refuses %s", async (_, make) => {
    const res = await withToken(make());
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ type: "authentication_error", code: "invalid_token" });
  });

  it("accepts a token inside the bound, and one minted for the longest lifetime minting allows", async () => {
    expect((await withToken(asymmetric(claims(uniqueId("long")), { ...signingKey("ES256") }))).status).toBe(200);
    expect((await withToken(widgetToken(uniqueId("long"), { exp: now() + DAY - 60 }))).status).toBe(200);
    const minted = await proxyFetch("/v1/tokens", { method: "POST", body: JSON.stringify({ user: uniqueId("minted-long"), ttl_seconds: DAY }) });
    expect(minted.status).toBe(200);
    const { token } = (await minted.json()) as { token: string };
    expect((await withToken(token)).status).toBe(200);
  });
});

describe("identity-provider tokens arriving together", () => {
  it("40 naming unknown keys, sent with valid ones, all get their answer from the worker", async () => {
    const rogue = Array.from({ length: 40 }, (_, i) => withToken(asymmetric(claims("victim"), { ...signingKey("RS256"), kid: `rogue-${uniqueId("kid")}-${i}` })));
    const valid = (["RS256", "ES256"] as const).map((alg) => withToken(asymmetric(claims(uniqueId(`together-${alg}`)), signingKey(alg))));
    expect((await Promise.all(rogue)).map((res) => res.status)).toEqual(Array.from({ length: 40 }, () => 401));
    expect((await Promise.all(valid)).map((res) => res.status)).toEqual([200, 200]);
  });
});
