import type { OwnCommand } from "./context";
import { expire, expireat, pexpire, pexpireat, pttl, ttl } from "./expiry";
import { hdel, hincrby, hincrbyfloat, hmset, hset } from "./hashes";
import { lindex, lrange, ltrim } from "./lists";
import { scan } from "./scan";
import { evalScript, evalsha, script } from "./scripting";
import {
  zcount,
  zlexcount,
  zpopmax,
  zpopmin,
  zrange,
  zrangebylex,
  zrangebyscore,
  zrank,
  zremrangebylex,
  zremrangebyrank,
  zremrangebyscore,
  zrevrange,
  zrevrangebylex,
  zrevrangebyscore,
  zrevrank,
} from "./sorted-set-ranges";
import { zadd, zincrby, zmscore, zscore } from "./sorted-sets";
import { append, decr, decrby, getrange, incr, incrby, incrbyfloat, mget, psetex, set, setex, strlen } from "./strings";

/**
 * Commands where ioredis-mock's emulation strays from Redis in ways clients notice, implemented
 * here instead. Everything else goes to ioredis-mock with type checks and reply normalisation.
 */
export const OWN_COMMANDS: ReadonlyMap<string, OwnCommand> = new Map(
  Object.entries({
    set,
    setex,
    psetex,
    mget,
    incr,
    decr,
    incrby,
    decrby,
    incrbyfloat,
    strlen,
    append,
    getrange,
    substr: getrange,
    expire,
    pexpire,
    expireat,
    pexpireat,
    ttl,
    pttl,
    lrange,
    ltrim,
    lindex,
    hset,
    hmset,
    hdel,
    hincrby,
    hincrbyfloat,
    zadd,
    zincrby,
    zscore,
    zmscore,
    zrange,
    zrevrange,
    zrangebyscore,
    zrevrangebyscore,
    zrangebylex,
    zrevrangebylex,
    zcount,
    zlexcount,
    zremrangebyscore,
    zremrangebylex,
    zremrangebyrank,
    zrank,
    zrevrank,
    zpopmin,
    zpopmax,
    scan,
    eval: evalScript,
    eval_ro: evalScript,
    evalsha,
    evalsha_ro: evalsha,
    script,
  }),
);
