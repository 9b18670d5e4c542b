import type { Reply } from "./backend";
import { sha1 } from "./sha1";

// Upstash's Redis accepts a script flag of its own, allow-key-locking, which @upstash/ratelimit
// puts in every script's "#!lua flags=" line; redis-server refuses the script ("Unexpected flag in
// script shebang"). So scripts reach redis-server without it, and SHA1s are translated between the
// one the client computed (of the script it sent) and the one redis-server knows.

const UPSTASH_ONLY_FLAGS = new Set(["allow-key-locking"]);

export interface Translated {
  command: string[];
  /** Applied to a successful reply. */
  reply(reply: Reply): Reply;
}

const unchanged = (reply: Reply) => reply;

export class UpstashScriptFlags {
  /** Client's SHA1 -> redis-server's, for scripts that had to be changed. */
  private readonly redisSha = new Map<string, string>();

  translate(command: string[]): Translated {
    const [name = "", first, ...rest] = command;
    if (first === undefined) return { command, reply: unchanged };
    switch (name.toLowerCase()) {
      case "eval":
      case "eval_ro":
        return { command: [name, this.forRedis(first), ...rest], reply: unchanged };
      case "evalsha":
      case "evalsha_ro":
        return { command: [name, this.redisShaOf(first), ...rest], reply: unchanged };
      case "script": {
        const [source] = rest;
        if (first.toLowerCase() === "load" && source !== undefined) {
          return { command: [name, first, this.forRedis(source)], reply: () => sha1(source) };
        }
        if (first.toLowerCase() === "exists") return { command: [name, first, ...rest.map((sha) => this.redisShaOf(sha))], reply: unchanged };
        return { command, reply: unchanged };
      }
      default:
        return { command, reply: unchanged };
    }
  }

  private forRedis(source: string): string {
    const stripped = withoutUpstashFlags(source);
    if (stripped !== source) this.redisSha.set(sha1(source), sha1(stripped));
    return stripped;
  }

  private redisShaOf(sha: string): string {
    return this.redisSha.get(sha.toLowerCase()) ?? sha;
  }
}

/** `#!lua flags=allow-key-locking,no-writes` -> `#!lua flags=no-writes`; other scripts unchanged. */
export function withoutUpstashFlags(source: string): string {
  const shebang = /^#!lua[^\n]*/.exec(source)?.[0];
  if (!shebang) return source;
  const words = shebang.split(/\s+/).flatMap((word) => {
    if (!word.startsWith("flags=")) return [word];
    const flags = word
      .slice("flags=".length)
      .split(",")
      .filter((flag) => flag !== "" && !UPSTASH_ONLY_FLAGS.has(flag));
    return flags.length > 0 ? [`flags=${flags.join(",")}`] : [];
  });
  const rewritten = words.join(" ");
  return rewritten === shebang ? source : rewritten + source.slice(shebang.length);
}
