import type { HonoJsonWebKey } from "hono/utils/jwt/jws";

const FRESH_MS = 10 * 60_000;
/** How soon to look again after a token named an unknown key (a rotation?) or a fetch failed. */
const RETRY_AFTER_MS = 60_000;
const FETCH_TIMEOUT_MS = 2000;

/** The identity provider's keys could not be had: a 503 for the caller, not their fault. */
export class JwksUnavailableError extends Error {
  override name = "JwksUnavailableError";
}

const cache = new Map<string, { keys: HonoJsonWebKey[]; fetchedAt: number; triedAt: number; failed: boolean }>();

function isKey(value: unknown): value is HonoJsonWebKey {
  const key = value as { kty?: unknown; kid?: unknown } | null;
  return typeof key === "object" && key !== null && (key.kty === "RSA" || key.kty === "EC") && typeof key.kid === "string";
}

/**
 * The identity provider's public keys, fetched at most every ten minutes per isolate, and sooner
 * only when a token names an unknown key, at most once a minute, so verifying a widget token costs
 * no request on the hot path. A failed fetch is not retried for a minute either: the keys we had
 * keep serving, and without any the caller gets a 503 at once rather than a 2 s wait each time.
 */
export async function jwksKeys(url: string, kid: string | undefined, now = Date.now()): Promise<HonoJsonWebKey[]> {
  const cached = cache.get(url);
  if (cached) {
    const known = cached.keys.some((key) => key.kid === kid);
    const fresh = now - cached.fetchedAt < FRESH_MS;
    if ((known && fresh) || now - cached.triedAt < RETRY_AFTER_MS) {
      if (cached.failed && cached.keys.length === 0) throw new JwksUnavailableError("the JWKS could not be fetched");
      return cached.keys;
    }
  }
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    const body = (await response.json()) as { keys?: unknown };
    const keys = Array.isArray(body.keys) ? body.keys.filter(isKey) : [];
    cache.set(url, { keys, fetchedAt: now, triedAt: now, failed: false });
    return keys;
  } catch (error) {
    cache.set(url, { keys: cached?.keys ?? [], fetchedAt: cached?.fetchedAt ?? 0, triedAt: now, failed: true });
    if (cached?.keys.length) return cached.keys;
    throw new JwksUnavailableError(error instanceof Error ? error.message : "JWKS fetch failed");
  }
}
