import { Redis } from "ioredis";
import { BackendUnavailableError, execAbort, messageOf, RedisReplyError, type Backend, type Outcome, type Reply } from "./backend";
import { refusal } from "./command-policy";
import { UpstashScriptFlags } from "./upstash-script-flags";

/** A real redis-server behind one shared ioredis connection. */
export function createRedisBackend(url: string): Backend {
  const client = new Redis(url, {
    // Connect on the first command, so a server can start before its Redis is up.
    lazyConnect: true,
    // A dead Redis should fail requests within a second or so, not queue them while reconnecting.
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    commandTimeout: 10_000,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1_000),
  });
  // Each failing command reports the failure itself; without a listener ioredis prints every
  // reconnect attempt.
  client.on("error", () => {});

  const scripts = new UpstashScriptFlags();
  const unavailable = (error: unknown) => new BackendUnavailableError(`redis-server at ${url} is unavailable: ${messageOf(error)}`);

  return {
    kind: "redis-server",

    async exec(command) {
      const refused = refusal(command);
      if (refused) throw new RedisReplyError(refused);
      const translated = scripts.translate(command);
      const [name = "", ...args] = translated.command;
      try {
        return translated.reply(toReply(await client.callBuffer(wireName(name), ...args)));
      } catch (error) {
        if (isReplyError(error)) throw new RedisReplyError(error.message);
        throw unavailable(error);
      }
    },

    async transaction(commands) {
      for (const command of commands) {
        const refused = refusal(command);
        if (refused) throw execAbort(refused);
      }
      const translated = commands.map((command) => scripts.translate(command));
      const multi = client.multi();
      for (const { command } of translated) {
        const [name = "", ...args] = command;
        multi.callBuffer(wireName(name), ...args);
      }
      let results: [Error | null, unknown][] | null;
      try {
        results = await multi.exec();
      } catch (error) {
        if (isReplyError(error)) throw abortError(error);
        throw unavailable(error);
      }
      if (!results) throw unavailable("EXEC returned nil");
      return results.map(([error, value], i): Outcome => {
        if (!error) return { result: translated[i]?.reply(toReply(value)) ?? toReply(value) };
        if (isReplyError(error)) return { error: error.message };
        throw unavailable(error);
      });
    },

    async close() {
      client.disconnect();
    },
  };
}

// ioredis applies its reply transformers by lower-case command name (HGETALL would come back as
// an object); the upper-case name skips them and keeps the reply exactly as Redis sent it.
function wireName(name: string): string {
  return name.toUpperCase();
}

function toReply(value: unknown): Reply {
  if (value === null || value === undefined) return null;
  if (Buffer.isBuffer(value) || typeof value === "number" || typeof value === "string") return value;
  if (Array.isArray(value)) return value.map(toReply);
  // An error nested in an array (a Lua script can return one); JSON has no place for it but a string.
  if (value instanceof Error) return value.message;
  throw new Error(`unexpected reply from ioredis: ${typeof value}`);
}

// ioredis types its ReplyError export as `any`; the parser's errors are recognisable by name.
function isReplyError(error: unknown): error is Error {
  return error instanceof Error && error.name === "ReplyError";
}

function abortError(error: Error): RedisReplyError {
  const previous: unknown = Reflect.get(error, "previousErrors");
  const first: unknown = Array.isArray(previous) ? previous[0] : undefined;
  return first instanceof Error ? execAbort(first.message) : new RedisReplyError(error.message);
}
