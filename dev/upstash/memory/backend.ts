import { BackendUnavailableError, execAbort, RedisReplyError, type Backend, type Outcome } from "../backend";
import { refusal } from "../command-policy";
import { arityAccepts, COMMANDS, type CommandSpec } from "./commands";
import type { MemoryContext } from "./context";
import { unsupported, wrongArity } from "./errors";
import { Keyspace } from "./keyspace";
import { createLuaEngine } from "./lua";
import { toReply, type MemoryReply } from "./replies";

// How often (in commands) expired keys are dropped: see Keyspace.dropExpired.
const DROP_EXPIRED_EVERY = 1000;

/**
 * Redis in this process, so that `npm run dev` needs nothing installed: the commands in
 * commands.ts, on a keyspace of its own. Each command runs to completion before the next starts
 * (nothing here awaits), so a /multi-exec or a script has nothing from other requests in between.
 */
export function createMemoryBackend(): Backend {
  const keyspace = new Keyspace();
  const context: MemoryContext = { keyspace, lua: createLuaEngine((command) => runFromScript(context, command)) };
  let closed = false;
  let count = 0;

  const run = (command: readonly string[]): MemoryReply => {
    if (closed) throw new BackendUnavailableError("the embedded backend is closed");
    if (++count % DROP_EXPIRED_EVERY === 0) keyspace.dropExpired();
    const { spec, args } = validate(command);
    return spec.run(context, args);
  };

  return {
    kind: "in-memory",

    exec: async (command) => toReply(run(command)),

    async transaction(commands) {
      // As Redis does when queueing: a command it cannot run discards the whole transaction.
      for (const command of commands) {
        try {
          validate(command);
        } catch (error) {
          throw error instanceof RedisReplyError ? execAbort(error.message) : error;
        }
      }
      return commands.map((command): Outcome => {
        try {
          return { result: toReply(run(command)) };
        } catch (error) {
          if (error instanceof RedisReplyError) return { error: error.message };
          throw error;
        }
      });
    },

    async close() {
      closed = true;
    },
  };
}

/** The checks Redis makes before running a command: one it knows (here: one of ours), with the right number of arguments. */
function validate(command: readonly string[]): { spec: CommandSpec; args: string[] } {
  const [name = "", ...args] = command;
  const refused = refusal(command);
  if (refused) throw new RedisReplyError(refused);
  const spec = COMMANDS.get(name.toLowerCase());
  if (!spec) throw unsupported(name.toUpperCase());
  if (!arityAccepts(spec, args.length)) throw wrongArity(name);
  return { spec, args };
}

/** redis.call from a script: the same commands, with Redis's wording for what a script may not do. */
function runFromScript(context: MemoryContext, command: string[]): MemoryReply {
  const [name = "", ...args] = command;
  const spec = COMMANDS.get(name.toLowerCase());
  if (!spec) throw unsupported(name.toUpperCase());
  if (spec.fromScripts === false) throw new RedisReplyError("ERR This Redis command is not allowed from script");
  if (!arityAccepts(spec, args.length)) throw new RedisReplyError("ERR Wrong number of args calling Redis command from script");
  return spec.run(context, args);
}
