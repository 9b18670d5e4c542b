import { createPrivateKey } from "node:crypto";
import { stack } from "./context";
import { hs256, now, type Claims } from "./jwt";

/** What the integration stack's widget tokens must carry (JWT_AUDIENCE, JWT_ISSUER in global-setup). */
export const AUD = "concierge-tests";
export const ISS = "https://auth.example.test";

/** A valid token's claims for `user`, five minutes long, with `extra` on top (undefined removes one). */
export const claims = (user: string, extra: Claims = {}): Claims => ({ sub: user, aud: AUD, iss: ISS, iat: now(), exp: now() + 300, ...extra });

/** An HS256 widget token signed with the stack's JWT_SECRET. */
export const widgetToken = (user: string, extra: Claims = {}) => hs256(claims(user, extra), stack().jwtSecret);

/** One of the local identity provider's keys (its JWKS is what the worker trusts). */
export const signingKey = (alg: "RS256" | "ES256") => {
  const key = stack().jwksKeys.find((k) => k.alg === alg)!;
  return { alg, kid: key.kid, privateKey: createPrivateKey(key.privateKeyPem) };
};
