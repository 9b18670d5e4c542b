import { Jwt } from "hono/utils/jwt";
import { decodeHeader } from "hono/utils/jwt/jwt";
import type { Config } from "../config";
import { ID_PATTERN } from "../http/ids";
import { ServiceUnavailableError } from "../http/errors";
import { JwksUnavailableError, jwksKeys } from "./jwks";

/** Why a widget token was refused: for the log, never for the client (who gets a plain 401). */
export class WidgetTokenError extends Error {
  override name = "WidgetTokenError";

  /**
   * @param routine an expired or not-yet-valid token: what honest widgets send every day (and a
   * clock a little off), which says nothing about guessing, so it does not count against the IP.
   */
  constructor(
    message: string,
    readonly routine = false,
  ) {
    super(message);
  }
}

/** hono's names for a token that is well signed but outside its time. */
const ROUTINE = new Set(["JwtTokenExpired", "JwtTokenNotBefore", "JwtTokenIssuedAt"]);

/** `.` and `..` pass ID_PATTERN but read as path segments wherever an id meets a URL or a path. */
const ONLY_DOTS = /^\.+$/;

/** A JWT has three base64url parts and a JSON header; anything else presented as a bearer is an API key. */
export function looksLikeJwt(token: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/**
 * The user a widget token was issued for. The algorithm is pinned by what is configured, never
 * taken from the token: HS256 with JWT_SECRET, RS256/ES256 with the keys at JWT_JWKS_URL
 * (so `alg: none`, or HS256 signed with a public key, cannot pass). `exp` is required; `aud` and
 * `iss` are checked when configured; `sub` must be a valid user id.
 */
export async function verifyWidgetToken(token: string, auth: Config["auth"]): Promise<string> {
  let payload: Record<string, unknown>;
  try {
    const { alg, kid } = decodeHeader(token);
    const verification = { ...(auth.audience ? { aud: auth.audience } : {}), ...(auth.issuer ? { iss: auth.issuer } : {}) };
    if (alg === "HS256" && auth.jwtSecret) {
      payload = await Jwt.verify(token, auth.jwtSecret, { alg: "HS256", ...verification });
    } else if ((alg === "RS256" || alg === "ES256") && auth.jwksUrl) {
      payload = await Jwt.verifyWithJwks(token, { keys: await jwksKeys(auth.jwksUrl, kid), allowedAlgorithms: ["RS256", "ES256"], verification });
    } else {
      throw new WidgetTokenError(`algorithm ${String(alg)} is not accepted here`);
    }
  } catch (error) {
    if (error instanceof WidgetTokenError) throw error;
    if (error instanceof JwksUnavailableError) {
      throw new ServiceUnavailableError("Widget tokens cannot be verified right now; try again shortly.", { code: "jwks_unavailable" });
    }
    const name = error instanceof Error ? error.name : "invalid token";
    throw new WidgetTokenError(name, ROUTINE.has(name));
  }
  if (typeof payload.exp !== "number") throw new WidgetTokenError("the token has no exp");
  if (typeof payload.sub !== "string" || !ID_PATTERN.test(payload.sub) || ONLY_DOTS.test(payload.sub)) {
    throw new WidgetTokenError("the token's sub is not a valid user id");
  }
  return payload.sub;
}

/** A short-lived HS256 widget token for one user, as POST /v1/tokens hands out. */
export async function mintWidgetToken(user: string, ttlSeconds: number, auth: Config["auth"] & { jwtSecret: string }, now = Date.now()) {
  const issuedAt = Math.floor(now / 1000);
  const expiresAt = issuedAt + ttlSeconds;
  const token = await Jwt.sign(
    {
      sub: user,
      iat: issuedAt,
      exp: expiresAt,
      jti: crypto.randomUUID(),
      ...(auth.audience ? { aud: auth.audience } : {}),
      ...(auth.issuer ? { iss: auth.issuer } : {}),
    },
    auth.jwtSecret,
    "HS256",
  );
  return { token, expiresAt: expiresAt * 1000 };
}
