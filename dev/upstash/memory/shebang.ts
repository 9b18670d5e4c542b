import { RedisReplyError } from "../backend";
import { unsupported } from "./errors";

// Redis 7 reads a "#!lua flags=..." first line (evalExtractShebangFlags in eval.c).
// allow-key-locking is Upstash's own flag, which @upstash/ratelimit puts in every script; the
// embedded backend honours none of Redis's, so a script that relies on one is refused.
const REDIS_FLAGS = new Set(["no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys"]);
const UPSTASH_FLAGS = new Set(["allow-key-locking"]);

/** The script without its shebang line, which is left empty so that line numbers in errors stay the script's. */
export function withoutShebang(source: string): string {
  if (!source.startsWith("#!")) return source;
  const end = source.indexOf("\n");
  if (end < 0) throw new RedisReplyError("ERR Invalid script shebang");
  const [engine, ...options] = source.slice(0, end).split(/\s+/).filter((part) => part !== "");
  if (engine !== "#!lua") throw new RedisReplyError(`ERR Unexpected engine in script shebang: ${engine ?? ""}`);
  for (const option of options) {
    if (!option.startsWith("flags=")) throw new RedisReplyError(`ERR Unknown lua shebang option: ${option}`);
    for (const flag of option.slice("flags=".length).split(",")) {
      if (REDIS_FLAGS.has(flag)) throw unsupported(`the script flag ${flag}`);
      if (!UPSTASH_FLAGS.has(flag)) throw new RedisReplyError(`ERR Unexpected flag in script shebang: ${flag}`);
    }
  }
  return source.slice(end);
}
