import { createHmac, createSign, generateKeyPairSync, type JsonWebKey, type KeyObject } from "node:crypto";

/**
 * JWTs made with node:crypto alone, independent of the worker's code, so tests can forge exactly
 * the tokens an attacker would: wrong keys, `alg: none`, wrong audience, no expiry.
 */
const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

export type Claims = Record<string, unknown>;

export function now(): number {
  return Math.floor(Date.now() / 1000);
}

export function hs256(claims: Claims, secret: string, header: Record<string, unknown> = {}): string {
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT", ...header }));
  const body = b64url(JSON.stringify(claims));
  const signature = createHmac("sha256", secret).update(`${head}.${body}`).digest("base64url");
  return `${head}.${body}.${signature}`;
}

export function unsigned(claims: Claims): string {
  return `${b64url(JSON.stringify({ alg: "none", typ: "JWT" }))}.${b64url(JSON.stringify(claims))}.`;
}

export interface SigningKey {
  kid: string;
  alg: "RS256" | "ES256";
  privateKey: KeyObject;
  publicJwk: JsonWebKey & { kid: string; alg: string; use: string };
}

export function generateSigningKey(alg: "RS256" | "ES256", kid: string): SigningKey {
  const { privateKey, publicKey } =
    alg === "RS256" ? generateKeyPairSync("rsa", { modulusLength: 2048 }) : generateKeyPairSync("ec", { namedCurve: "P-256" });
  return { kid, alg, privateKey, publicJwk: { ...publicKey.export({ format: "jwk" }), kid, alg, use: "sig" } };
}

export function asymmetric(claims: Claims, key: Pick<SigningKey, "alg" | "kid" | "privateKey">): string {
  const head = b64url(JSON.stringify({ alg: key.alg, typ: "JWT", kid: key.kid }));
  const body = b64url(JSON.stringify(claims));
  const signer = createSign("SHA256");
  signer.update(`${head}.${body}`);
  // JWS ES256 signatures are raw r||s, not DER.
  const signature = signer.sign(key.alg === "ES256" ? { key: key.privateKey, dsaEncoding: "ieee-p1363" } : key.privateKey);
  return `${head}.${body}.${b64url(signature)}`;
}
