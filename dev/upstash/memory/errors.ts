import { RedisReplyError } from "../backend";

// Redis's own wording, so clients and tests see the same errors from both backends.
export const WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value";
export const NOT_AN_INTEGER = "ERR value is not an integer or out of range";
export const NOT_A_FLOAT = "ERR value is not a valid float";
export const SYNTAX_ERROR = "ERR syntax error";

export function wrongArity(name: string): RedisReplyError {
  return new RedisReplyError(`ERR wrong number of arguments for '${name.toLowerCase()}' command`);
}

/**
 * What every command, option or script feature outside the embedded backend's set gets: said
 * plainly, with the way out, rather than answered almost like Redis would.
 */
export function unsupported(what: string): RedisReplyError {
  return new RedisReplyError(`ERR ${what} is not supported by the embedded backend; set REDIS_URL for a real redis-server`);
}
