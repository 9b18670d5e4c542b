/**
 * Commands both backends refuse. Every HTTP request shares one Redis connection (or one in-memory
 * instance), so anything that blocks it, changes its state for everyone, or needs a long-lived
 * connection would break other requests.
 */
const REFUSED: ReadonlyMap<string, string> = new Map([
  ...["blpop", "brpop", "brpoplpush", "blmove", "blmpop", "bzpopmin", "bzpopmax", "bzmpop", "wait", "waitaof"].map(
    (name) => [name, "blocking commands would stall every other request"] as const,
  ),
  ...["subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "monitor", "sync", "psync"].map(
    (name) => [name, "it needs a long-lived connection"] as const,
  ),
  ...["multi", "exec", "discard", "watch", "unwatch"].map((name) => [name, "send the whole transaction to /multi-exec"] as const),
  ...["select", "swapdb", "auth", "hello", "client", "reset", "quit"].map((name) => [name, "connection state does not survive a REST request"] as const),
  ...["shutdown", "replicaof", "slaveof", "failover", "debug"].map((name) => [name, "it would take the server away from other clients"] as const),
]);

/** Why `command` is refused, or undefined if it may run. */
export function refusal(command: readonly string[]): string | undefined {
  const name = (command[0] ?? "").toLowerCase();
  const reason = REFUSED.get(name);
  if (reason) return `ERR '${name}' is not supported by this server: ${reason}`;
  if ((name === "xread" || name === "xreadgroup") && command.some((arg) => arg.toLowerCase() === "block")) {
    return `ERR '${name}' with BLOCK is not supported by this server: blocking commands would stall every other request`;
  }
  return undefined;
}
