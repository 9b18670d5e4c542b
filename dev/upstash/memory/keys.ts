import { RedisReplyError } from "../backend";
import type { Command, MemoryContext } from "./context";
import { unsupported } from "./errors";
import { globMatch } from "./glob";
import { fitsInt64, parseInteger } from "./numbers";

/** DEL key [key ...]: an erasure, a forgotten session. */
export const del: Command = ({ keyspace }, keys) => keys.filter((key) => keyspace.delete(key)).length;

/** EXISTS key [key ...]: the integration tests' check that something is gone (a key named twice counts twice). */
export const exists: Command = ({ keyspace }, keys) => keys.filter((key) => keyspace.exists(key)).length;

/** KEYS pattern: how the integration tests find every key of a user. */
export const keys: Command = ({ keyspace }, [pattern = ""]) => keyspace.keys().filter((key) => globMatch(pattern, key));

/** EXPIRE key seconds: a turn's save renews the session's TTL. */
export const expire: Command = (context, args) => setExpiry(context, args, "expire", 1000n);

/** PEXPIRE key milliseconds: the rate-limit script's window. */
export const pexpire: Command = (context, args) => setExpiry(context, args, "pexpire", 1n);

function setExpiry({ keyspace }: MemoryContext, [key = "", amount = "", option]: string[], command: string, unit: bigint): number {
  if (option !== undefined) throw unsupported(`${command.toUpperCase()} ${option.toUpperCase()}`);
  const milliseconds = parseInteger(amount) * unit;
  const at = BigInt(Date.now()) + milliseconds;
  if (!fitsInt64(milliseconds) || !fitsInt64(at)) throw new RedisReplyError(`ERR invalid expire time in '${command}' command`);
  if (!keyspace.exists(key)) return 0;
  keyspace.expireAt(key, Number(at));
  return 1;
}

/** PTTL key: what the sessions API reports as a session's expiry. -2: no such key, -1: no expiry. */
export const pttl: Command = ({ keyspace }, [key = ""]) => remaining(keyspace, key, (milliseconds) => milliseconds);

/** TTL key, rounded to the nearest second as Redis does: the integration tests' check of a cached profile. */
export const ttl: Command = ({ keyspace }, [key = ""]) => remaining(keyspace, key, (milliseconds) => Math.floor((milliseconds + 500) / 1000));

function remaining(keyspace: MemoryContext["keyspace"], key: string, inUnit: (milliseconds: number) => number): number {
  if (!keyspace.exists(key)) return -2;
  const at = keyspace.expiresAt(key);
  return at === undefined ? -1 : inUnit(Math.max(0, at - Date.now()));
}
