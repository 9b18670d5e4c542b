import { BackendUnavailableError, execAbort, RedisReplyError, type Backend, type Outcome, type Reply } from "../backend";
import { refusal } from "../command-policy";
import { arityAccepts, commandSpec, keyArguments, type CommandSpec } from "./command-table";
import type { MemoryContext } from "./context";
import { unknownCommand, WRONGTYPE, wrongArity } from "./errors";
import { Keyspace, type ValueType } from "./keyspace";
import { createMockRedis } from "./mock-redis";
import { OWN_COMMANDS } from "./own-commands";
import { toReply } from "./replies";

const TYPE_OF_CATEGORY: ReadonlyMap<string, ValueType> = new Map([
  ["@string", "string"],
  ["@list", "list"],
  ["@hash", "hash"],
  ["@set", "set"],
  ["@sortedset", "zset"],
]);
// Commands of a typed group that replace whatever the key holds rather than refuse another type.
const OVERWRITING = new Set(["set", "setnx", "setex", "psetex", "mset", "msetnx"]);
// Commands whose first key is a destination they overwrite; only the sources must have the type.
const DESTINATION_FIRST = new Set(["sinterstore", "sunionstore", "sdiffstore", "zunionstore", "zinterstore", "zdiffstore", "zrangestore"]);

interface Validated {
  name: string;
  args: string[];
  spec: CommandSpec;
}

/**
 * Redis in this process, on ioredis-mock. Every command goes through one queue, one at a time, so
 * a /multi-exec runs with nothing from other requests in between, as MULTI/EXEC would.
 */
export function createMemoryBackend(): Backend {
  const mock = createMockRedis();
  const context: MemoryContext = { keyspace: new Keyspace(mock.data, mock.expires), mock, scripts: new Map() };
  let tail: Promise<unknown> = Promise.resolve();
  let closed = false;
  const serially = <T>(task: () => Promise<T>): Promise<T> => {
    if (closed) return Promise.reject(new BackendUnavailableError("the in-memory backend is closed"));
    const result = tail.then(task);
    tail = result.catch(() => undefined);
    return result;
  };

  return {
    kind: "in-memory",

    exec: (command) => serially(() => run(context, command)),

    transaction: (commands) =>
      serially(async () => {
        // Like Redis at queue time: an unknown command or wrong arity discards the whole transaction.
        for (const command of commands) {
          try {
            validate(context, command);
          } catch (error) {
            throw error instanceof RedisReplyError ? execAbort(error.message) : error;
          }
        }
        const outcomes: Outcome[] = [];
        for (const command of commands) {
          try {
            outcomes.push({ result: await run(context, command) });
          } catch (error) {
            if (!(error instanceof RedisReplyError)) throw error;
            outcomes.push({ error: error.message });
          }
        }
        return outcomes;
      }),

    async close() {
      if (closed) return;
      const last = serially(() => mock.close());
      closed = true;
      await last;
    },
  };
}

async function run(context: MemoryContext, command: readonly string[]): Promise<Reply> {
  const { name, args, spec } = validate(context, command);
  try {
    const own = OWN_COMMANDS.get(name);
    if (own) return await own(context, args);
    checkTypes(context, spec, name, args);
    return toReply(await context.mock.call(name, args));
  } finally {
    if (spec.flags.has("write")) context.keyspace.sweep(keyArguments(spec, args));
  }
}

/** The checks Redis makes before queueing a command: known, supported, right number of arguments. */
function validate(context: MemoryContext, command: readonly string[]): Validated {
  const [rawName = "", ...args] = command;
  const name = rawName.toLowerCase();
  const spec = commandSpec(name);
  if (!spec) throw unknownCommand(rawName, args);
  // Refused by both backends; here also because ioredis-mock's methods of these names (multi,
  // exec, subscribe, ...) manage the mock client rather than emulate the command.
  const refused = refusal(command);
  if (refused) throw new RedisReplyError(refused);
  // ioredis-mock's streams write helper keys into the keyspace: better refused than half working.
  if (!OWN_COMMANDS.has(name) && (!context.mock.commands.has(name) || spec.categories.has("@stream"))) {
    throw new RedisReplyError(`ERR unknown command '${rawName}': the in-memory backend does not emulate it (use a real redis-server)`);
  }
  if (!arityAccepts(spec, args.length)) throw wrongArity(name);
  if (spec.subcommands.size > 0) {
    const subcommand = (args[0] ?? "").toLowerCase();
    const subSpec = spec.subcommands.get(subcommand);
    if (!subSpec) throw new RedisReplyError(`ERR unknown subcommand '${args[0] ?? ""}'. Try ${name.toUpperCase()} HELP.`);
    if (!arityAccepts(subSpec, args.length)) throw wrongArity(`${name}|${subcommand}`);
  }
  return { name, args, spec };
}

/** WRONGTYPE before ioredis-mock sees the command: it would often answer with the wrong value instead. */
function checkTypes({ keyspace }: MemoryContext, spec: CommandSpec, name: string, args: string[]): void {
  const types = [...spec.categories].flatMap((category) => TYPE_OF_CATEGORY.get(category) ?? []);
  const expected = types[0];
  if (types.length !== 1 || expected === undefined || OVERWRITING.has(name)) return;
  const keys = keyArguments(spec, args).slice(DESTINATION_FIRST.has(name) ? 1 : 0);
  for (const key of keys) {
    const actual = keyspace.typeOf(key);
    if (actual !== undefined && actual !== expected) throw new RedisReplyError(WRONGTYPE);
  }
}
