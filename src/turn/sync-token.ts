import { InvalidRequestError } from "../http/errors";

/** Upstash's tokens are opaque; printable ASCII and bounded is all a client's echo needs to be. */
const TOKEN = /^[\x21-\x7e]{1,512}$/;

/** Whether a token Upstash answered with is one a client can echo back (and this proxy would take). */
export function isSyncToken(token: string): boolean {
  return TOKEN.test(token);
}

/**
 * The X-Session-Sync request header: the token the previous turn of this session answered with,
 * echoed by the client, or undefined. It makes this turn's reads wait until an Upstash Global
 * replica has that turn's save, whichever isolate or region this turn runs in.
 */
export function syncToken(header: string | undefined): string | undefined {
  if (header === undefined || header.trim() === "") return undefined;
  const token = header.trim();
  if (!TOKEN.test(token)) throw new InvalidRequestError("X-Session-Sync must be the token a previous answer carried.", { param: "X-Session-Sync", code: "invalid_sync_token" });
  return token;
}
