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
