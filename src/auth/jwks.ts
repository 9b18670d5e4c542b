import type { HonoJsonWebKey } from "hono/utils/jwt/jws";

const FRESH_MS = 10 * 60_000;
/** A token naming a key we do not know may be a rotation: look again, but not more than this often. */
const REFETCH_AFTER_MS = 60_000;
const FETCH_TIMEOUT_MS = 2000;

const cache = new Map<string, { keys: HonoJsonWebKey[]; fetchedAt: number }>();

function isKey(value: unknown): value is HonoJsonWebKey {
  const key = value as { kty?: unknown; kid?: unknown } | null;
  return typeof key === "object" && key !== null && (key.kty === "RSA" || key.kty === "EC") && typeof key.kid === "string";
}

/**
 * The identity provider's public keys, fetched at most every ten minutes per isolate (sooner only
 * when a token names an unknown key, and then at most once a minute), so verifying a widget token
 * costs no request on the hot path. If a refetch fails, the keys we had still serve.
 */
export async function jwksKeys(url: string, kid: string | undefined, now = Date.now()): Promise<HonoJsonWebKey[]> {
  const cached = cache.get(url);
  if (cached) {
    const age = now - cached.fetchedAt;
    const known = cached.keys.some((key) => key.kid === kid);
    if (age < FRESH_MS && (known || age < REFETCH_AFTER_MS)) return cached.keys;
  }
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
    const body = (await response.json()) as { keys?: unknown };
    const keys = Array.isArray(body.keys) ? body.keys.filter(isKey) : [];
    cache.set(url, { keys, fetchedAt: now });
    return keys;
  } catch (error) {
    if (cached) return cached.keys;
    throw error;
  }
}
