import { Jwt } from "hono/utils/jwt";
import { decodeHeader } from "hono/utils/jwt/jwt";
import type { Config } from "../config";
import { ID_PATTERN } from "../http/ids";
import { ServiceUnavailableError } from "../http/errors";
import { JwksUnavailableError, jwksKeys } from "./jwks";

/**
 * Why a widget token was refused, as a code from a closed set: it goes to the log (never to the
 * client, who gets a plain 401), and nothing in it comes from the token, so a hostile token cannot
 * write its own text, or 20 KB of it, into our logs.
 */
export type RefusalReason =
  | "malformed"
  | "algorithm_not_accepted"
  | "unknown_key"
  | "bad_signature"
  | "expired"
  | "not_yet_valid"
  | "wrong_audience"
  | "wrong_issuer"
  | "no_exp"
  | "too_long_lived"
  | "invalid_sub"
  | "invalid";

/**
 * An expired or not-yet-valid token: what honest widgets send every day (and a clock a little
 * off), which says nothing about guessing, so it does not count against the IP.
 */
const ROUTINE = new Set<RefusalReason>(["expired", "not_yet_valid"]);

/** hono's errors, by name, as our reasons (their messages quote the token, so they are never used). */
const HONO_REASONS = new Map<string, RefusalReason>([
  ["JwtTokenInvalid", "malformed"],
  ["JwtHeaderInvalid", "malformed"],
  ["JwtHeaderRequiresKid", "malformed"],
  ["JwtAlgorithmNotImplemented", "algorithm_not_accepted"],
  ["JwtAlgorithmMismatch", "algorithm_not_accepted"],
  ["JwtAlgorithmNotAllowed", "algorithm_not_accepted"],
  ["JwtSymmetricAlgorithmNotAllowed", "algorithm_not_accepted"],
  ["JwtTokenSignatureMismatched", "bad_signature"],
  ["JwtPayloadRequiresAud", "wrong_audience"],
  ["JwtTokenAudience", "wrong_audience"],
  ["JwtTokenIssuer", "wrong_issuer"],
]);

export class WidgetTokenError extends Error {
  override name = "WidgetTokenError";

  constructor(readonly reason: RefusalReason) {
    super(`widget token refused: ${reason}`);
  }

  get routine(): boolean {
    return ROUTINE.has(this.reason);
  }
}

/** Clocks differ a little between where a token is minted and where it is checked. */
const CLOCK_LEEWAY_SECONDS = 60;

/** `.` and `..` pass ID_PATTERN but read as path segments wherever an id meets a URL or a path. */
const ONLY_DOTS = /^\.+$/;

/** A JWT has three base64url parts and a JSON header; anything else presented as a bearer is an API key. */
export function looksLikeJwt(token: string): boolean {
  return /^eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token);
}

/**
 * The user a widget token was issued for. The algorithm is pinned by what is configured, never
 * taken from the token: HS256 with JWT_SECRET, RS256/ES256 with the keys at JWT_JWKS_URL
 * (so `alg: none`, or HS256 signed with a public key, cannot pass). Only then its claims: `exp` is
 * required, at most JWT_MAX_AGE_SECONDS ahead (and `iat`, if present, at most that far back);
 * `nbf` and `iat` may be up to a minute ahead of our clock; `aud` and `iss` are checked when
 * configured; `sub` must be a valid user id.
 */
export async function verifyWidgetToken(token: string, auth: Config["auth"]): Promise<string> {
  let payload: Record<string, unknown>;
  try {
    const { alg, kid } = decodeHeader(token);
    // The time claims are checked below, once the signature holds: hono checks them before it, so a
    // forged token with a past exp would pass for an honest expired one (which is not counted
    // against the address), and it allows no clock leeway for nbf and iat.
    const verification = { ...(auth.audience ? { aud: auth.audience } : {}), ...(auth.issuer ? { iss: auth.issuer } : {}), exp: false, nbf: false, iat: false };
    if (alg === "HS256" && auth.jwtSecret) {
      payload = await Jwt.verify(token, auth.jwtSecret, { alg: "HS256", ...verification });
    } else if ((alg === "RS256" || alg === "ES256") && auth.jwksUrl) {
      const keys = await jwksKeys(auth.jwksUrl, kid);
      // hono says only "invalid token" for a kid it cannot find; the log should say which.
      if (!keys.some((key) => key.kid === kid)) throw new WidgetTokenError("unknown_key");
      payload = await Jwt.verifyWithJwks(token, { keys, allowedAlgorithms: ["RS256", "ES256"], verification });
    } else {
      throw new WidgetTokenError("algorithm_not_accepted");
    }
  } catch (error) {
    if (error instanceof WidgetTokenError) throw error;
    if (error instanceof JwksUnavailableError) {
      throw new ServiceUnavailableError("Widget tokens cannot be verified right now; try again shortly.", { code: "jwks_unavailable" });
    }
    throw new WidgetTokenError((error instanceof Error && HONO_REASONS.get(error.name)) || "invalid");
  }
  const claim = (name: "exp" | "nbf" | "iat"): number | undefined => {
    const value = payload[name];
    if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value))) throw new WidgetTokenError("malformed");
    return value;
  };
  const [exp, nbf, iat] = [claim("exp"), claim("nbf"), claim("iat")];
  const now = Math.floor(Date.now() / 1000);
  if (exp === undefined) throw new WidgetTokenError("no_exp");
  if (exp <= now) throw new WidgetTokenError("expired");
  // A token minted on a clock a little ahead of ours is honest; one from well in the future is not valid yet.
  if ((nbf !== undefined && nbf > now + CLOCK_LEEWAY_SECONDS) || (iat !== undefined && iat > now + CLOCK_LEEWAY_SECONDS)) {
    throw new WidgetTokenError("not_yet_valid");
  }
  // An IdP token with `exp: 1e300` would otherwise be a credential forever, stolen or not.
  const oldestIssue = now - auth.maxAgeSeconds - CLOCK_LEEWAY_SECONDS;
  if (exp > now + auth.maxAgeSeconds + CLOCK_LEEWAY_SECONDS || (iat !== undefined && iat < oldestIssue)) {
    throw new WidgetTokenError("too_long_lived");
  }
  if (typeof payload.sub !== "string" || !ID_PATTERN.test(payload.sub) || ONLY_DOTS.test(payload.sub)) throw new WidgetTokenError("invalid_sub");
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
