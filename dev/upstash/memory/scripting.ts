import { messageOf, RedisReplyError, type Reply } from "../backend";
import { sha1 } from "../sha1";
import { commandSpec } from "./command-table";
import type { MemoryContext, OwnCommand } from "./context";
import { WRONGTYPE } from "./errors";
import { parseIntegerNumber } from "./numbers";

// ioredis-mock runs Lua in fengari, but converts results loosely (1.5 stays 1.5, false and nil
// become undefined, {err=...} and {ok=...} vanish), lacks redis.error_reply/status_reply, hands
// redis.call replies to Lua as JS arrays whose nils are truthy, turns errors inside redis.call
// into "null" and cannot read a "#!lua" first line. So each script runs inside a wrapper that
// fixes redis.* and hands back a tagged result that survives the conversion. Commands called from
// Lua still run on ioredis-mock's own emulation, not on ours.

const NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL.";

/** EVAL script numkeys [key ...] [arg ...] */
export const evalScript: OwnCommand = (context, [source = "", ...rest]) => {
  const sha = sha1(source);
  context.scripts.set(sha, source);
  return runScript(context, source, sha, rest);
};

/** EVALSHA sha1 numkeys [key ...] [arg ...] */
export const evalsha: OwnCommand = (context, [sha = "", ...rest]) => {
  const source = context.scripts.get(sha.toLowerCase());
  if (source === undefined) throw new RedisReplyError(NOSCRIPT);
  return runScript(context, source, sha.toLowerCase(), rest);
};

/** SCRIPT LOAD | EXISTS | FLUSH */
export const script: OwnCommand = ({ scripts }, [subcommand = "", ...args]) => {
  switch (subcommand.toUpperCase()) {
    case "LOAD": {
      const source = args[0] ?? "";
      const sha = sha1(source);
      scripts.set(sha, source);
      return sha;
    }
    case "EXISTS":
      return args.map((sha) => (scripts.has(sha.toLowerCase()) ? 1 : 0));
    case "FLUSH":
      scripts.clear();
      return "OK";
    default:
      throw new RedisReplyError(`ERR unknown subcommand '${subcommand}'. Try SCRIPT HELP.`);
  }
};

async function runScript(context: MemoryContext, source: string, sha: string, [numkeysText = "", ...args]: string[]): Promise<Reply> {
  const numkeys = parseIntegerNumber(numkeysText);
  if (numkeys < 0) throw new RedisReplyError("ERR Number of keys can't be negative");
  if (numkeys > args.length) throw new RedisReplyError("ERR Number of keys can't be greater than number of args");
  let tagged: unknown;
  try {
    tagged = await context.mock.call("eval", [wrap(source, context.mock.commands), String(numkeys), ...args]);
  } catch (error) {
    // Runtime errors are caught inside the wrapper, so what escapes did not compile.
    throw new RedisReplyError(`ERR Error compiling script (new function): ${scriptLocation(messageOf(error).replace(/^.*lua code string in VM: /, ""))}`);
  } finally {
    // Scripts must declare the keys they touch (Redis Cluster relies on it), so those are the
    // ones that may have been left as empty containers.
    context.keyspace.sweep(args.slice(0, numkeys));
  }
  return untag(tagged, (message, line) => {
    throw new RedisReplyError(scriptError(message, sha, line));
  });
}

const preludes = new WeakMap<ReadonlySet<string>, string>();

function wrap(source: string, mockCommands: ReadonlySet<string>): string {
  let head = preludes.get(mockCommands);
  if (head === undefined) {
    // What Redis allows from scripts and ioredis-mock's Lua bridge can reach.
    head = prelude([...mockCommands].filter((name) => commandSpec(name) !== undefined && !commandSpec(name)?.flags.has("noscript")));
    preludes.set(mockCommands, head);
  }
  // Blank, not drop, the shebang line so line numbers in errors stay the user's.
  const body = source.startsWith("#!") ? source.replace(/^#![^\n]*/, "") : source;
  return `${head}${body}\nend)\nif not __ok then return { "err", __message(__result), type(__result) == "table" and __result.line or nil } end\nreturn __tag(__result)\n`;
}

// Tables go back to JS through ioredis-mock's converter, which only recognises arrays built by a
// table constructor (it checks the order lua_next visits keys in), hence `{ "arr", table.unpack(items) }`.
// Replies reach Lua as proxies of JS arrays (the outermost shifted to start at 1) with JS null for
// nil, which Lua would find truthy; __lua turns them into tables with false, as Redis hands them over.
function prelude(callable: string[]): string {
  return `-- in-memory EVAL wrapper
local __known = {${callable.map((name) => `[${JSON.stringify(name)}]=true`).join(",")}}
local __raw_call = redis.call
local function __message(e)
  if type(e) == "table" and type(e.err) == "string" then return e.err end
  local text = string.gsub(tostring(e), "^%a*Error: ", "")
  if string.find(text, "does not contain a", 1, true) then return "${WRONGTYPE}" end
  return text
end
local function __is_null(value)
  local text = tostring(value)
  return text == "null" or text == "undefined"
end
local function __lua(array, first, last)
  local out = {}
  for i = first, last do
    local item = array[i]
    if type(item) == "userdata" then
      if __is_null(item) then item = false else item = __lua(item, 0, item.length - 1) end
    end
    out[#out + 1] = item
  end
  return out
end
local function __call(name, ...)
  local line = debug.getinfo(2, "l").currentline
  if type(name) ~= "string" or not __known[string.lower(name)] then
    error({ err = "ERR Unknown Redis command called from script", line = line })
  end
  local ok, result = pcall(__raw_call, name, ...)
  if ok then
    if type(result) == "userdata" then return __lua(result, 1, #result) end
    return result
  end
  local message = __message(result)
  if not string.find(message, "^%u+ ") then message = "ERR " .. message end
  error({ err = message, line = line })
end
redis.call = __call
redis.pcall = function(...)
  local ok, result = pcall(__call, ...)
  if ok then return result end
  return { err = __message(result) }
end
redis.error_reply = function(message) return { err = message } end
redis.status_reply = function(message) return { ok = message } end
redis.log = function() end
redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING = 0, 1, 2, 3
redis.replicate_commands = function() return true end
redis.set_repl = function() end
redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL = 0, 1, 2, 2, 3
local function __tag(value)
  local kind = type(value)
  if kind == "string" then return { "str", value } end
  if kind == "number" then return { "int", value } end
  if kind == "boolean" then
    if value then return { "int", 1 } end
    return { "nil" }
  end
  if kind == "table" then
    if type(value.err) == "string" then return { "err", value.err } end
    if type(value.ok) == "string" then return { "str", value.ok } end
    local items, n = {}, 0
    while value[n + 1] ~= nil do
      n = n + 1
      items[n] = __tag(value[n])
    end
    return { "arr", table.unpack(items, 1, n) }
  end
  return { "nil" }
end
local __ok, __result = pcall(function()
`;
}

const PRELUDE_LINES = prelude([]).split("\n").length - 1;

/** Back from the wrapper's tags to a reply; `fail` handles an error at the top level. */
function untag(tagged: unknown, fail: (message: string, line: number | undefined) => never, nested = false): Reply {
  if (!Array.isArray(tagged)) throw new Error(`unexpected EVAL result from ioredis-mock: ${JSON.stringify(tagged)}`);
  const [tag, payload, line]: unknown[] = tagged;
  switch (tag) {
    case "nil":
      return null;
    case "int":
      // Redis truncates Lua numbers to integers.
      return typeof payload === "number" && Number.isFinite(payload) ? Math.trunc(payload) : 0;
    case "str":
      return typeof payload === "string" ? payload : String(payload);
    case "arr":
      return tagged.slice(1).map((item: unknown) => untag(item, fail, true));
    case "err": {
      const message = typeof payload === "string" ? payload : String(payload);
      return nested ? message : fail(message, typeof line === "number" ? line : undefined);
    }
    default:
      throw new Error(`unexpected EVAL result tag from ioredis-mock: ${String(tag)}`);
  }
}

/** Worded like Redis: where in the user's script an error was raised, if it came from there. */
function scriptError(message: string, sha: string, line: number | undefined): string {
  // A tail call (`return redis.call(...)`) leaves no frame to take the line from.
  if (line !== undefined) return line > PRELUDE_LINES ? `${message} script: ${sha}, on @user_script:${line - PRELUDE_LINES}.` : `${message} script: ${sha}`;
  const located = /^\[string "[^"]*"\]:(\d+): /.exec(message);
  if (!located) return message;
  const userLine = Number(located[1]) - PRELUDE_LINES;
  return `ERR user_script:${userLine}: ${message.slice(located[0].length)} script: ${sha}, on @user_script:${userLine}.`;
}

/** `[string "..."]:52: msg` -> `user_script:3: msg`, counting the user's lines. */
function scriptLocation(message: string): string {
  return message.replace(/\[string "[^"]*"\]:(\d+):/g, (_, line: string) => `user_script:${Number(line) - PRELUDE_LINES}:`);
}
