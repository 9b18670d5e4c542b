/**
 * A Redis reply as the HTTP layer sees it. Bulk strings are bytes when they come from a real
 * redis-server (so nothing is lost before encoding) and JS strings from the embedded one (memory/).
 */
export type Reply = string | Uint8Array | number | null | Reply[];

/** One command's outcome inside a pipeline or transaction, shaped like Upstash's JSON. */
export type Outcome = { result: Reply } | { error: string };

/** An error reply from Redis itself ("ERR ...", "WRONGTYPE ...", "NOSCRIPT ..."): the client's fault, HTTP 400. */
export class RedisReplyError extends Error {
  override name = "RedisReplyError";
}

/** The store behind the server could not answer at all (redis-server down): HTTP 503. */
export class BackendUnavailableError extends Error {
  override name = "BackendUnavailableError";
}

export interface Backend {
  readonly kind: "redis-server" | "in-memory";
  /** Rejects with RedisReplyError for an error reply, BackendUnavailableError when the store is unreachable. */
  exec(command: string[]): Promise<Reply>;
  /**
   * MULTI/EXEC: runtime errors (WRONGTYPE, ...) come back per command while the others still run.
   * Rejects with a RedisReplyError starting "EXECABORT" when Redis refuses to queue a command.
   */
  transaction(commands: string[][]): Promise<Outcome[]>;
  close(): Promise<void>;
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function execAbort(cause: string): RedisReplyError {
  return new RedisReplyError(`EXECABORT Transaction discarded because of previous errors: ${cause}`);
}
