import type { Reply } from "../backend";
import type { Keyspace } from "./keyspace";
import type { MockRedis } from "./mock-redis";

/** What a command we implement ourselves (rather than leave to ioredis-mock) gets to work with. */
export interface MemoryContext {
  readonly keyspace: Keyspace;
  readonly mock: MockRedis;
  /** Lua sources by SHA1, for EVALSHA and SCRIPT EXISTS. */
  readonly scripts: Map<string, string>;
}

/** Arguments exclude the command name; arity has already been checked against Redis's table. */
export type OwnCommand = (context: MemoryContext, args: string[]) => Reply | Promise<Reply>;
