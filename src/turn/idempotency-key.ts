import type { Config } from "../config";
import { InvalidRequestError } from "../http/errors";

/** Printable ASCII, as the IETF draft's examples (UUIDs, random strings) are; long enough for any of them. */
const KEY = /^[\x21-\x7e]{1,255}$/;

/**
 * The Idempotency-Key request header (draft-ietf-httpapi-idempotency-key-header), or undefined.
 * The draft makes it a structured-field string, `"8e03978e-..."`; a bare token is taken too, as
 * most clients send one.
 */
export function idempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const trimmed = header.trim();
  const key = trimmed.length >= 2 && trimmed.startsWith('"') && trimmed.endsWith('"') ? trimmed.slice(1, -1) : trimmed;
  if (!KEY.test(key)) {
    throw new InvalidRequestError("Idempotency-Key must be 1 to 255 printable ASCII characters.", { param: "Idempotency-Key", code: "invalid_idempotency_key" });
  }
  return key;
}

/**
 * What a retry must repeat to be answered as its first attempt: the turn's new messages and the
 * model (draft-ietf-httpapi-idempotency-key-header: a key reused with another payload is refused,
 * 422). Not the whole request: `stream` or a sampling parameter may change on a retry (a widget
 * that lost its stream retries as a JSON client) without making it another question. Objects are
 * hashed with their keys sorted, so a client that serialises the same request differently is not
 * taken for another one. A SHA-256 in hex: no spaces, so the stored values split on them.
 */
export async function requestFingerprint(model: string, newTurn: readonly unknown[]): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonicalJson([model, newTurn])));
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** JSON with every object's keys in order, and undefined members left out as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((item) => (item === undefined ? "null" : canonicalJson(item))).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value)
      .filter(([, member]) => member !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, member]) => `${JSON.stringify(key)}:${canonicalJson(member)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

/**
 * How long a turn holds its Idempotency-Key against concurrent retries: the longest a turn can go
 * on without the model's stream moving, so a claim whose worker died (killed, or cancelled with its
 * client) lets a retry through by then. Its load and save (a Redis timeout each, and a Cosmos read),
 * the upstream's answer (UPSTREAM_TIMEOUT_MS), and one silence of its stream (UPSTREAM_IDLE_TIMEOUT_MS).
 * A stream that goes on longer outlives its claim: a retry after that asks the model again, and the
 * session still stores the turn once (the save is append-once).
 */
export function claimLifetimeMs(config: Config): number {
  const { timeoutMs, idleTimeoutMs } = config.upstream;
  return 2 * (config.redis?.timeoutMs ?? 0) + (config.cosmos?.timeoutMs ?? 0) + timeoutMs + idleTimeoutMs;
}
