import { RedisReplyError } from "../backend";
import { sha1 } from "../sha1";
import type { Command, MemoryContext } from "./context";
import { parseInteger } from "./numbers";
import { withoutShebang } from "./shebang";

// @upstash/ratelimit's way: EVALSHA first, and EVAL (which also makes the SHA1 known) after a
// NOSCRIPT. SCRIPT LOAD it never sends.

/** EVAL script numkeys [key ...] [arg ...] */
export const evalScript: Command = (context, [source = "", ...rest]) => {
  const sha = sha1(source);
  const [keys, args] = splitKeys(rest);
  // A script that does not compile is not remembered, as in Redis.
  if (!context.lua.has(sha)) context.lua.compile(sha, withoutShebang(source));
  return context.lua.run(sha, keys, args);
};

/** EVALSHA sha1 numkeys [key ...] [arg ...] */
export const evalsha: Command = ({ lua }: MemoryContext, [shaText = "", ...rest]) => {
  const [keys, args] = splitKeys(rest);
  const sha = shaText.toLowerCase();
  if (!lua.has(sha)) throw new RedisReplyError("NOSCRIPT No matching script. Please use EVAL.");
  return lua.run(sha, keys, args);
};

/** `numkeys key ... arg ...` -> KEYS and ARGV, with Redis's checks. */
function splitKeys([numkeysText = "", ...rest]: string[]): [string[], string[]] {
  const numkeys = Number(parseInteger(numkeysText));
  if (numkeys > rest.length) throw new RedisReplyError("ERR Number of keys can't be greater than number of args");
  if (numkeys < 0) throw new RedisReplyError("ERR Number of keys can't be negative");
  return [rest.slice(0, numkeys), rest.slice(numkeys)];
}
