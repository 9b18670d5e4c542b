import { messageOf, RedisReplyError } from "../backend";

// Redis's own wording, so clients and tests see the same errors from both backends.
export const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
export const NOT_AN_INTEGER = "ERR value is not an integer or out of range";
export const NOT_A_FLOAT = "ERR value is not a valid float";
export const SYNTAX_ERROR = "ERR syntax error";
export const OVERFLOW = "ERR increment or decrement would overflow";

export function wrongArity(name: string): RedisReplyError {
  return new RedisReplyError(`ERR wrong number of arguments for '${name.toLowerCase()}' command`);
}

export function unknownCommand(name: string, args: readonly string[]): RedisReplyError {
  return new RedisReplyError(`ERR unknown command '${name}', with args beginning with: ${args.map((arg) => `'${arg}' `).join("")}`);
}

const ERROR_CODE = /^(ERR|WRONGTYPE|NOSCRIPT|EXECABORT|BUSY|BUSYKEY|NOPERM|OOM|READONLY) /;

/** An error thrown by ioredis-mock, reworded the way Redis would say it. */
export function toRedisError(error: unknown): RedisReplyError {
  if (error instanceof RedisReplyError) return error;
  const message = messageOf(error);
  // ioredis-mock's own words for a type mismatch, e.g. "Key k does not contain a list".
  if (/does not contain a|wrong kind of value/.test(message)) return new RedisReplyError(WRONGTYPE);
  return new RedisReplyError(ERROR_CODE.test(message) ? message : `ERR ${message}`);
}
