import type { Command } from "./context";
import { wrongArity } from "./errors";
import { del, exists, expire, keys, pexpire, pttl, ttl } from "./keys";
import { hdel, hexists, hget, hgetall, hlen, hset } from "./hashes";
import { llen, lrange, lrem, ltrim, rpush } from "./lists";
import { Status } from "./replies";
import { evalScript, evalsha } from "./scripting";
import { get, incrby, set } from "./strings";
import { zadd, zcard, zrange, zrem, zremrangebyscore, zscore } from "./sorted-sets";

export interface CommandSpec {
  /** As Redis's COMMAND reports it, counting the name: n exactly, or -n for at least n. */
  arity: number;
  run: Command;
  /** Redis refuses EVAL inside a script. */
  fromScripts?: false;
}

/** PING [message] */
const ping: Command = (_, [message, ...extra]) => {
  if (extra.length > 0) throw wrongArity("ping");
  return message ?? new Status("PONG");
};

/**
 * Every command the embedded backend answers, and who sends it. Anything else, and any option of
 * these that no one here sends, is answered "ERR <COMMAND> is not supported by the embedded
 * backend; set REDIS_URL for a real redis-server". test/dev/upstash-memory-parity.test.ts checks
 * this set against a real redis-server.
 */
export const COMMANDS: ReadonlyMap<string, CommandSpec> = new Map(
  Object.entries({
    // The worker (src/): a turn's load and save (memory/turn-memory.ts), the sessions API,
    // erasure and the session cap (memory/session-store.ts, ZCARD), the profile cache
    // (memory/profile-cache.ts), /readyz (PING).
    get: { arity: 2, run: get },
    set: { arity: -3, run: set },
    del: { arity: -2, run: del },
    expire: { arity: -3, run: expire },
    pttl: { arity: 2, run: pttl },
    rpush: { arity: -3, run: rpush },
    lrange: { arity: 4, run: lrange },
    ltrim: { arity: 4, run: ltrim },
    lrem: { arity: 4, run: lrem },
    llen: { arity: 2, run: llen },
    zadd: { arity: -4, run: zadd },
    zrange: { arity: -4, run: zrange },
    zrem: { arity: -3, run: zrem },
    zremrangebyscore: { arity: 4, run: zremrangebyscore },
    ping: { arity: -1, run: ping },
    zcard: { arity: 2, run: zcard },
    zscore: { arity: 3, run: zscore },
    // A session's turns by Idempotency-Key (memory/append-once.ts, whose script also sends RPUSH,
    // LRANGE and LTRIM for the keys' order), claimed with each turn's load (memory/turn-claim.ts,
    // whose script also sends PEXPIRE, and HGETALL to drop expired claims) and taken back with an
    // undone save (HDEL, LREM).
    hget: { arity: 3, run: hget },
    hset: { arity: -4, run: hset },
    hlen: { arity: 2, run: hlen },
    hdel: { arity: -3, run: hdel },
    hgetall: { arity: 2, run: hgetall },
    // A session's Responses records: a chained turn's load asks whether the session holds its previous response.
    hexists: { arity: 3, run: hexists },
    // @upstash/ratelimit's sliding window (src/rate-limit/rate-limit.ts): EVALSHA, EVAL after a
    // NOSCRIPT, and the script's own GET, INCRBY and PEXPIRE.
    evalsha: { arity: -3, run: evalsha, fromScripts: false },
    eval: { arity: -3, run: evalScript, fromScripts: false },
    incrby: { arity: 3, run: incrby },
    pexpire: { arity: -3, run: pexpire },
    // What the integration tests read back as ground truth (test/support/context.ts).
    exists: { arity: -2, run: exists },
    keys: { arity: 2, run: keys },
    ttl: { arity: 2, run: ttl },
  } satisfies Record<string, CommandSpec>),
);

export function arityAccepts({ arity }: CommandSpec, argumentCount: number): boolean {
  const total = argumentCount + 1;
  return arity >= 0 ? total === arity : total >= -arity;
}

