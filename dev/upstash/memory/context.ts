import type { Keyspace } from "./keyspace";
import type { LuaEngine } from "./lua";
import type { MemoryReply } from "./replies";

/** What a command of the embedded backend works with. */
export interface MemoryContext {
  readonly keyspace: Keyspace;
  readonly lua: LuaEngine;
}

/** Arguments exclude the command name; their number has already been checked against the command's arity. */
export type Command = (context: MemoryContext, args: string[]) => MemoryReply;
