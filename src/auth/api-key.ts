const encoder = new TextEncoder();

async function digest(value: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(value));
}

/**
 * The configured keys' digests, made once: the configuration (and its array of keys) lives as
 * long as the isolate, and hashing every key again on every request was most of authentication's
 * CPU.
 */
const digestsOfKeys = new WeakMap<readonly string[], ArrayBuffer[]>();

async function digestsOf(keys: readonly string[]): Promise<ArrayBuffer[]> {
  let digests = digestsOfKeys.get(keys);
  if (!digests) {
    digests = await Promise.all(keys.map(digest));
    digestsOfKeys.set(keys, digests);
  }
  return digests;
}

/**
 * Whether `presented` is one of `keys`, in time that depends on neither: both sides are hashed to
 * equal-length digests and every key is compared, so neither a key's length nor its prefix leaks.
 */
export async function isProxyApiKey(presented: string, keys: readonly string[]): Promise<boolean> {
  if (keys.length === 0) return false;
  const [candidate, known] = await Promise.all([digest(presented), digestsOf(keys)]);
  let match = false;
  for (const key of known) {
    if (crypto.subtle.timingSafeEqual(candidate, key)) match = true;
  }
  return match;
}
