import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { generateSigningKey } from "./jwt";

export interface JwksServer {
  url: string;
  /** What tests need to sign with the served keys (PEM, since it crosses process boundaries). */
  keys: Array<{ kid: string; alg: "RS256" | "ES256"; privateKeyPem: string }>;
  close(): Promise<void>;
}

/** An identity provider's JWKS endpoint on loopback, serving one RS256 and one ES256 public key. */
export async function startJwksServer(): Promise<JwksServer> {
  const keys = [generateSigningKey("RS256", "rsa-1"), generateSigningKey("ES256", "ec-1")];
  const server = createServer((req, res) => {
    if (req.url !== "/.well-known/jwks.json") return void res.writeHead(404).end();
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    keys: keys.map((k) => ({ kid: k.kid, alg: k.alg, privateKeyPem: k.privateKey.export({ format: "pem", type: "pkcs8" }).toString() })),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
