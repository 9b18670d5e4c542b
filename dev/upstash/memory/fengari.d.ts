/** The part of fengari (Lua 5.3 in JavaScript, no types of its own) that lua.ts uses: Lua's C API, by the same names. */
declare module "fengari" {
  /** A Lua state. */
  export type LuaState = { readonly __brand: "lua_State" };
  /** Lua strings are bytes. */
  export type LuaString = Uint8Array;

  export function to_luastring(text: string): LuaString;

  export const lua: {
    readonly LUA_OK: number;
    readonly LUA_TNIL: number;
    readonly LUA_TBOOLEAN: number;
    readonly LUA_TNUMBER: number;
    readonly LUA_TSTRING: number;
    readonly LUA_TTABLE: number;
    readonly LUA_REGISTRYINDEX: number;
    lua_pushjsfunction(L: LuaState, fn: (L: LuaState) => number): void;
    lua_pushstring(L: LuaState, s: LuaString): void;
    lua_pushinteger(L: LuaState, n: number): void;
    lua_pushboolean(L: LuaState, b: boolean): void;
    lua_pushnil(L: LuaState): void;
    lua_createtable(L: LuaState, narr: number, nrec: number): void;
    lua_rawseti(L: LuaState, index: number, n: number): void;
    lua_rawgeti(L: LuaState, index: number, n: number): number;
    lua_setfield(L: LuaState, index: number, k: LuaString): void;
    lua_getfield(L: LuaState, index: number, k: LuaString): number;
    lua_setglobal(L: LuaState, name: LuaString): void;
    lua_type(L: LuaState, index: number): number;
    lua_tostring(L: LuaState, index: number): LuaString;
    lua_tonumber(L: LuaState, index: number): number;
    lua_isinteger(L: LuaState, index: number): boolean;
    lua_tointeger(L: LuaState, index: number): number;
    lua_toboolean(L: LuaState, index: number): boolean;
    lua_gettop(L: LuaState): number;
    lua_settop(L: LuaState, index: number): void;
    lua_pop(L: LuaState, n: number): void;
    lua_pushvalue(L: LuaState, index: number): void;
    lua_pcall(L: LuaState, nargs: number, nresults: number, msgh: number): number;
    lua_call(L: LuaState, nargs: number, nresults: number): void;
    lua_error(L: LuaState): never;
  };

  export const lauxlib: {
    luaL_newstate(): LuaState;
    luaL_loadbuffer(L: LuaState, buffer: LuaString, size: number | null, name: LuaString): number;
  };

  export const lualib: {
    luaL_openlibs(L: LuaState): void;
  };
}
