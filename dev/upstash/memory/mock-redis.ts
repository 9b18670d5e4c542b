import { randomUUID } from "node:crypto";
import RedisMock from "ioredis-mock";
import { toRedisError } from "./errors";

/** ioredis-mock's key -> value store. Values: string (or Buffer), string[] (list), Map (zset), Set, plain object (hash). */
export interface MockData {
  get(key: string): unknown;
  has(key: string): boolean;
  set(key: string, value: unknown): void;
  delete(key: string): void;
  keys(): string[];
}

/** ioredis-mock's expiry times, epoch milliseconds by key. */
export interface MockExpires {
  get(key: string): number | undefined;
  set(key: string, at: number): void;
  has(key: string): boolean;
  delete(key: string): void;
}

export interface MockRedis {
  readonly data: MockData;
  readonly expires: MockExpires;
  /** The (lower-case) commands ioredis-mock emulates itself. */
  readonly commands: ReadonlySet<string>;
  /** Runs one ioredis-mock command; its errors come back as Redis-style RedisReplyErrors. */
  call(name: string, args: readonly string[]): Promise<unknown>;
  close(): Promise<void>;
}

export function createMockRedis(): MockRedis {
  // ioredis-mock shares one dataset between all instances with the same host and port: a unique
  // host keeps each server's data to itself.
  const mock = new RedisMock({ host: `upstash-memory-${randomUUID()}`, port: 6379 });
  const data: unknown = Reflect.get(mock, "data");
  const expires: unknown = Reflect.get(mock, "expires");
  if (!isStore(data) || !isStore(expires)) {
    throw new Error("ioredis-mock's internals have changed (no data/expires store); dev/upstash/memory needs updating");
  }
  // Its command emulations are own enumerable methods; the commands it lacks are non-enumerable
  // stubs that throw "Unsupported command".
  const commands = new Set(Object.keys(mock).filter((name) => typeof Reflect.get(mock, name) === "function"));

  return {
    data: narrowData(data),
    expires: narrowExpires(expires),
    commands,
    async call(name, args) {
      const method: unknown = Reflect.get(mock, name);
      if (typeof method !== "function") throw new Error(`ioredis-mock has no method ${name}`);
      try {
        return (await Reflect.apply(method, mock, args)) as unknown;
      } catch (error) {
        throw toRedisError(error);
      }
    },
    async close() {
      await mock.flushall();
      mock.disconnect();
    },
  };
}

interface Store {
  get(key: string): unknown;
  has(key: string): boolean;
  set(key: string, value: unknown): void;
  delete(key: string): void;
}

function isStore(value: unknown): value is Store {
  return typeof value === "object" && value !== null && ["get", "has", "set", "delete"].every((name) => typeof Reflect.get(value, name) === "function");
}

function narrowData(store: Store): MockData {
  const keys: unknown = Reflect.get(store, "keys");
  if (typeof keys !== "function") throw new Error("ioredis-mock's internals have changed (data.keys)");
  return {
    get: (key) => store.get(key),
    has: (key) => store.has(key),
    set: (key, value) => store.set(key, value),
    delete: (key) => store.delete(key),
    keys: () => {
      const all: unknown = Reflect.apply(keys, store, []);
      return Array.isArray(all) ? all.filter((key): key is string => typeof key === "string") : [];
    },
  };
}

function narrowExpires(store: Store): MockExpires {
  return {
    get: (key) => {
      const at = store.get(key);
      return typeof at === "number" ? at : undefined;
    },
    set: (key, at) => store.set(key, at),
    has: (key) => store.has(key),
    delete: (key) => store.delete(key),
  };
}
