import { lauxlib, lua, lualib, to_luastring, type LuaState } from "fengari";
import { RedisReplyError } from "../backend";
import { unsupported } from "./errors";
import { formatDouble } from "./numbers";
import { Status, type MemoryReply } from "./replies";

/** Scripts, compiled once per SHA1, run as Redis runs them: KEYS and ARGV, and redis.call into the same keyspace. */
export interface LuaEngine {
  has(sha: string): boolean;
  /** Throws Redis's "Error compiling script" reply if the body does not compile. */
  compile(sha: string, body: string): void;
  /** A script's error comes back as the RedisReplyError that Redis would send. */
  run(sha: string, keys: string[], args: string[]): MemoryReply;
}

/** How a script's redis.call reaches the commands: a RedisReplyError is the command's error reply. */
export type ScriptCall = (command: string[]) => MemoryReply;

// Set up once per engine as Redis sets up its own (script_lua.c): redis.call and redis.pcall and
// nothing else of the redis table, no files or processes, and Redis's error handler, which notes
// where in the script an error was raised ("script: <sha>, on @user_script:3."). Redis's handler
// skips a frame whose `what` is "C" (error(), redis.call); fengari calls those "J", for JavaScript.
// Redis runs Lua 5.1, whose `unpack` is a global; fengari's Lua 5.3 keeps it in `table` only.
const PRELUDE = `
local redis_call, redis_pcall, unsupported = ...
local dbg = debug
unpack = table.unpack
debug, io, os, package, require, dofile, loadfile = nil, nil, nil, nil, nil, nil, nil
redis = setmetatable({ call = redis_call, pcall = redis_pcall }, { __index = unsupported })
return function(err)
  local info = dbg.getinfo(2, "nSl")
  if info and info.what == "J" then info = dbg.getinfo(3, "nSl") end
  if type(err) ~= "table" then err = { err = "ERR " .. tostring(err) } end
  if info then
    err.source = info.source
    err.line = info.currentline
  end
  return err
end
`;

const ERROR_HANDLER = to_luastring("embedded:error-handler");
const decoder = new TextDecoder();

export function createLuaEngine(call: ScriptCall): LuaEngine {
  const L = lauxlib.luaL_newstate();
  lualib.luaL_openlibs(L);
  if (lauxlib.luaL_loadbuffer(L, to_luastring(PRELUDE), null, to_luastring("@embedded-prelude")) !== lua.LUA_OK) {
    throw new Error(`the embedded Lua prelude does not compile: ${text(L, -1)}`);
  }
  lua.lua_pushjsfunction(L, redisCall(call, "raise"));
  lua.lua_pushjsfunction(L, redisCall(call, "return"));
  lua.lua_pushjsfunction(L, (state) => raise(state, unsupported(`redis.${text(state, 2)}`).message));
  lua.lua_call(L, 3, 1);
  lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, ERROR_HANDLER);

  const known = new Set<string>();
  const functionName = (sha: string) => to_luastring(`embedded:script:${sha}`);

  return {
    has: (sha) => known.has(sha),

    compile(sha, body) {
      if (lauxlib.luaL_loadbuffer(L, to_luastring(body), null, to_luastring("@user_script")) !== lua.LUA_OK) {
        const message = text(L, -1);
        lua.lua_settop(L, 0);
        throw new RedisReplyError(`ERR Error compiling script (new function): ${message}`);
      }
      lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, functionName(sha));
      known.add(sha);
    },

    run(sha, keys, args) {
      try {
        lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, ERROR_HANDLER);
        setGlobalArray(L, "KEYS", keys);
        setGlobalArray(L, "ARGV", args);
        lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, functionName(sha));
        if (lua.lua_pcall(L, 0, 1, 1) !== lua.LUA_OK) throw new RedisReplyError(scriptError(L, sha));
        return replyOf(L, "top-level");
      } finally {
        lua.lua_settop(L, 0);
      }
    },
  };
}

/** redis.call raises a command's error reply; redis.pcall returns it as {err = message}. */
function redisCall(call: ScriptCall, onError: "raise" | "return") {
  return (L: LuaState): number => {
    let reply: MemoryReply;
    try {
      reply = call(commandOf(L));
    } catch (error) {
      const message = error instanceof RedisReplyError ? error.message : `ERR internal error in the embedded backend: ${String(error)}`;
      if (onError === "raise") raise(L, message);
      pushErrorTable(L, message);
      return 1;
    }
    pushReply(L, reply);
    return 1;
  };
}

/** The arguments of redis.call as Redis takes them: strings, and numbers as "%.17g" prints them. */
function commandOf(L: LuaState): string[] {
  const count = lua.lua_gettop(L);
  if (count === 0) throw new RedisReplyError("ERR Please specify at least one argument for this redis lib call");
  const command: string[] = [];
  for (let i = 1; i <= count; i++) {
    const type = lua.lua_type(L, i);
    if (type === lua.LUA_TSTRING) command.push(text(L, i));
    else if (type === lua.LUA_TNUMBER) command.push(lua.lua_isinteger(L, i) ? String(lua.lua_tointeger(L, i)) : formatDouble(lua.lua_tonumber(L, i)));
    else throw new RedisReplyError("ERR Lua redis lib command arguments must be strings or integers");
  }
  return command;
}

/** A reply as Redis hands it to Lua: nil as false, a status as {ok = text}, arrays as tables. */
function pushReply(L: LuaState, reply: MemoryReply): void {
  if (typeof reply === "number") lua.lua_pushinteger(L, reply);
  else if (typeof reply === "string") lua.lua_pushstring(L, to_luastring(reply));
  else if (reply === null) lua.lua_pushboolean(L, false);
  else if (reply instanceof Status) {
    lua.lua_createtable(L, 0, 1);
    lua.lua_pushstring(L, to_luastring(reply.text));
    lua.lua_setfield(L, -2, to_luastring("ok"));
  } else {
    lua.lua_createtable(L, reply.length, 0);
    reply.forEach((item, i) => {
      pushReply(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  }
}

/**
 * The value on top of the stack as Redis turns a script's result into a reply: numbers truncated
 * to integers, true as 1, false and nil as nil, {err = ...} an error (inside an array, its text),
 * {ok = ...} a status, and a table as an array up to its first nil.
 */
function replyOf(L: LuaState, level: "top-level" | "nested"): MemoryReply {
  switch (lua.lua_type(L, -1)) {
    case lua.LUA_TNUMBER:
      return Math.trunc(lua.lua_tonumber(L, -1));
    case lua.LUA_TSTRING:
      return text(L, -1);
    case lua.LUA_TBOOLEAN:
      return lua.lua_toboolean(L, -1) ? 1 : null;
    case lua.LUA_TTABLE: {
      const error = field(L, "err");
      if (error !== undefined) {
        if (level === "top-level") throw new RedisReplyError(error);
        return error;
      }
      const status = field(L, "ok");
      if (status !== undefined) return new Status(status);
      const items: MemoryReply[] = [];
      for (let i = 1; lua.lua_rawgeti(L, -1, i) !== lua.LUA_TNIL; i++) {
        items.push(replyOf(L, "nested"));
        lua.lua_pop(L, 1);
      }
      lua.lua_pop(L, 1);
      return items;
    }
    default:
      return null;
  }
}

/** What the error handler made of a failed script, worded as Redis words it. */
function scriptError(L: LuaState, sha: string): string {
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) return `ERR ${text(L, -1)}`;
  const message = field(L, "err") ?? "ERR unknown error";
  const source = field(L, "source");
  const line = field(L, "line");
  return source !== undefined && line !== undefined ? `${message} script: ${sha}, on ${source}:${line}.` : message;
}

/** A string (or number) field of the table on top of the stack. */
function field(L: LuaState, name: string): string | undefined {
  const type = lua.lua_getfield(L, -1, to_luastring(name));
  const value = type === lua.LUA_TSTRING || type === lua.LUA_TNUMBER ? text(L, -1) : undefined;
  lua.lua_pop(L, 1);
  return value;
}

function setGlobalArray(L: LuaState, name: string, items: string[]): void {
  lua.lua_createtable(L, items.length, 0);
  items.forEach((item, i) => {
    lua.lua_pushstring(L, to_luastring(item));
    lua.lua_rawseti(L, -2, i + 1);
  });
  lua.lua_setglobal(L, to_luastring(name));
}

function pushErrorTable(L: LuaState, message: string): void {
  lua.lua_createtable(L, 0, 1);
  lua.lua_pushstring(L, to_luastring(message));
  lua.lua_setfield(L, -2, to_luastring("err"));
}

function raise(L: LuaState, message: string): never {
  pushErrorTable(L, message);
  return lua.lua_error(L);
}

/** Lua strings are bytes; the keyspace holds text. */
function text(L: LuaState, index: number): string {
  return decoder.decode(lua.lua_tostring(L, index));
}
