import type { Backend, Outcome, Reply } from "./backend";

/**
 * Commands that change data; everything else reads. A write missing here would run on the replica
 * only, so this lists every write the embedded backend has (memory/commands.ts).
 */
const WRITES = new Set(["set", "del", "rpush", "ltrim", "lrem", "incrby", "expire", "pexpire", "zadd", "zrem", "zremrangebyscore", "hset", "hdel", "eval", "evalsha", "flushall", "flushdb"]);

const writes = (command: readonly string[]) => WRITES.has((command[0] ?? "").toLowerCase());

/** One request's view of a replicated database: the sync token it carried, and the one to answer with. */
export interface ReplicaSession extends Backend {
  /** The primary's position once this request's writes are in: the `upstash-sync-token` to return. */
  token(): string;
}

export interface ReplicatedBackend {
  readonly kind: Backend["kind"];
  /** A view for one request that carried `syncToken` (the `upstash-sync-token` header, if any). */
  session(syncToken: string | undefined): ReplicaSession;
  close(): Promise<void>;
}

/**
 * Upstash Global, modelled for local development: writes go to the primary at once and reach the
 * replica `lagMs` later, in order; reads are served by the replica. A request carrying a sync
 * token (the primary's position after some earlier write, as every response reports it) has its
 * reads wait until the replica has applied that write, which is how @upstash/redis reads its own
 * writes. A request without one reads whatever the replica has: a client that never saw the
 * write (another isolate, another colo) does not see it for `lagMs`. A /multi-exec with a write
 * runs whole on the primary; reads inside a request do not wait for that request's own writes.
 */
export function createReplicatedBackend(primary: Backend, replica: Backend, lagMs: number): ReplicatedBackend {
  let position = 0;
  let applied = 0;
  let applying: Promise<unknown> = Promise.resolve();
  const waiters: Array<{ upTo: number; resolve: () => void }> = [];

  const replicate = (seq: number, apply: () => Promise<unknown>) => {
    setTimeout(() => {
      applying = applying
        .then(apply)
        .catch(() => {}) // the primary already answered; a replica that fails the same way stays as it is
        .then(() => {
          applied = seq;
          for (let i = waiters.length - 1; i >= 0; i--) {
            if (waiters[i]!.upTo <= applied) waiters.splice(i, 1)[0]!.resolve();
          }
        });
    }, lagMs);
  };
  const caughtUp = (upTo: number) => (upTo <= applied ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ upTo, resolve })));

  return {
    kind: primary.kind,
    session(syncToken) {
      const carried = Math.min(Number(syncToken) || 0, position);
      /** A read on the replica (once it has what the request's token names), or a write on the primary, replicated later. */
      const serve = async <T>(write: boolean, run: (backend: Backend) => Promise<T>): Promise<T> => {
        if (!write) {
          await caughtUp(carried);
          return run(replica);
        }
        const result = await run(primary);
        replicate(++position, () => run(replica));
        return result;
      };
      return {
        kind: primary.kind,
        token: () => String(position),
        exec: (command: string[]): Promise<Reply> => serve(writes(command), (backend) => backend.exec(command)),
        transaction: (commands: string[][]): Promise<Outcome[]> => serve(commands.some(writes), (backend) => backend.transaction(commands)),
        close: async () => {},
      };
    },
    async close() {
      await applying;
      await Promise.all([primary.close(), replica.close()]);
    },
  };
}
