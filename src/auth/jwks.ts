import type { HonoJsonWebKey } from "hono/utils/jwt/jws";
import { withDeadline } from "../http/deadline";

const FRESH_MS = 10 * 60_000;
/** How soon to look again after a token named an unknown key (a rotation?) or a fetch failed. */
const RETRY_AFTER_MS = 60_000;
const FETCH_TIMEOUT_MS = 2000;

/** The identity provider's keys could not be had: a 503 for the caller, not their fault. */
export class JwksUnavailableError extends Error {
  override name = "JwksUnavailableError";
}

interface Refresh {
  done: Promise<void>;
  startedAt: number;
}

interface Entry {
  keys: HonoJsonWebKey[];
  fetchedAt: number;
  /** When the last fetch started: the once-a-minute rule counts from here, not from its end. */
  triedAt: number;
  failed: boolean;
  /** The one fetch in flight for this URL, which every token that needs it waits on. */
  refresh: Refresh | undefined;
}

const cache = new Map<string, Entry>();

function isKey(value: unknown): value is HonoJsonWebKey {
  const key = value as { kty?: unknown; kid?: unknown } | null;
  return typeof key === "object" && key !== null && (key.kty === "RSA" || key.kty === "EC") && typeof key.kid === "string";
}

async function fetchKeys(url: string): Promise<HonoJsonWebKey[]> {
  const response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`JWKS answered ${response.status}`);
  const body = (await response.json()) as { keys?: unknown };
  return Array.isArray(body.keys) ? body.keys.filter(isKey) : [];
}

function startRefresh(url: string, entry: Entry, now: number): Refresh {
  entry.triedAt = now;
  const refresh: Refresh = {
    startedAt: now,
    done: fetchKeys(url).then(
      (keys) => {
        entry.keys = keys;
        entry.fetchedAt = now;
        entry.failed = false;
      },
      () => {
        entry.failed = true;
      },
    ),
  };
  void refresh.done.finally(() => {
    if (entry.refresh === refresh) entry.refresh = undefined;
  });
  entry.refresh = refresh;
  return refresh;
}

function keysOf(entry: Entry): HonoJsonWebKey[] {
  if (entry.failed && entry.keys.length === 0) throw new JwksUnavailableError("the JWKS could not be fetched");
  return entry.keys;
}

/**
 * The identity provider's public keys, fetched at most every ten minutes per isolate, and sooner
 * only when a token names an unknown key, at most once a minute, so verifying a widget token costs
 * no request on the hot path. A failed fetch is not retried for a minute either: the keys we had
 * keep serving, and without any the caller gets a 503 at once rather than a 2 s wait each time.
 * However many tokens arrive together, there is one fetch per URL in flight, and they all wait on it.
 */
export async function jwksKeys(url: string, kid: string | undefined, now = Date.now()): Promise<HonoJsonWebKey[]> {
  let entry = cache.get(url);
  if (!entry) {
    entry = { keys: [], fetchedAt: 0, triedAt: -Infinity, failed: false, refresh: undefined };
    cache.set(url, entry);
  }
  // A fetch belongs to the request that started it: if that request is cancelled, so is the
  // fetch, and its promise never settles. Past its timeout it has failed, whatever it says.
  if (entry.refresh && now - entry.refresh.startedAt > FETCH_TIMEOUT_MS) {
    entry.refresh = undefined;
    entry.failed = true;
  }
  const known = entry.keys.some((key) => key.kid === kid);
  if (known && now - entry.fetchedAt < FRESH_MS) return entry.keys;
  if (!entry.refresh && now - entry.triedAt < RETRY_AFTER_MS) return keysOf(entry);

  const refresh = entry.refresh ?? startRefresh(url, entry, now);
  try {
    // Our own timer, not only the fetch's: a waiter must not hang on another request's I/O.
    await withDeadline(refresh.done, FETCH_TIMEOUT_MS, undefined, "the JWKS fetch");
  } catch {
    if (entry.keys.length === 0) throw new JwksUnavailableError("the JWKS fetch did not finish in time");
    return entry.keys;
  }
  return keysOf(entry);
}
