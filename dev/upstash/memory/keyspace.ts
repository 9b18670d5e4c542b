import { RedisReplyError } from "../backend";
import { WRONGTYPE } from "./errors";
import type { MockData, MockExpires } from "./mock-redis";

export type ValueType = "string" | "list" | "hash" | "set" | "zset";

/** How ioredis-mock keeps a sorted set member (Map keyed by member); its own commands read this shape. */
export interface ZMember {
  score: number;
  value: string;
}

export type Hash = Record<string, string>;

/**
 * Typed access to ioredis-mock's data for the commands we implement ourselves. Reads throw
 * WRONGTYPE like Redis; writes of empty lists/hashes/sets delete the key, as Redis does.
 * Values read are copies (ioredis-mock copies on get); change them and `put` them back.
 */
export class Keyspace {
  constructor(
    private readonly data: MockData,
    private readonly expires: MockExpires,
  ) {}

  typeOf(key: string): ValueType | undefined {
    // has() also drops the key if it has expired.
    return this.data.has(key) ? valueType(this.data.get(key)) : undefined;
  }

  exists(key: string): boolean {
    return this.data.has(key);
  }

  string(key: string): string | undefined {
    const value = this.read(key, "string");
    return value === undefined ? undefined : Buffer.isBuffer(value) ? value.toString("utf8") : String(value);
  }

  list(key: string): string[] | undefined {
    const value = this.read(key, "list");
    return isList(value) ? value : undefined;
  }

  hash(key: string): Hash | undefined {
    const value = this.read(key, "hash");
    return isHash(value) ? value : undefined;
  }

  zset(key: string): Map<string, ZMember> | undefined {
    const value = this.read(key, "zset");
    return isZset(value) ? value : undefined;
  }

  /** Stores a value, keeping any expiry (callers that must clear it call `persist`). */
  put(key: string, value: string | string[] | Hash | Map<string, ZMember>): void {
    if (isEmptyContainer(value)) this.data.delete(key);
    else this.data.set(key, value);
  }

  delete(key: string): void {
    this.data.delete(key);
  }

  expiresAt(key: string): number | undefined {
    return this.expires.has(key) ? this.expires.get(key) : undefined;
  }

  expireAt(key: string, at: number): void {
    this.expires.set(key, at);
  }

  persist(key: string): void {
    this.expires.delete(key);
  }

  keys(): string[] {
    return this.data.keys();
  }

  /** Deletes empty containers that ioredis-mock's own commands leave behind (Redis never keeps them). */
  sweep(keys: Iterable<string>): void {
    for (const key of keys) {
      if (this.data.has(key) && isEmptyContainer(this.data.get(key))) this.data.delete(key);
    }
  }

  private read(key: string, type: ValueType): unknown {
    if (!this.data.has(key)) return undefined;
    const value = this.data.get(key);
    if (valueType(value) !== type) throw new RedisReplyError(WRONGTYPE);
    return value;
  }
}

export function valueType(value: unknown): ValueType | undefined {
  if (typeof value === "string" || Buffer.isBuffer(value)) return "string";
  if (Array.isArray(value)) return "list";
  if (value instanceof Map) return "zset";
  if (value instanceof Set) return "set";
  if (typeof value === "object" && value !== null) return "hash";
  return undefined;
}

// These trust the shapes ioredis-mock stores (it only ever holds what its commands and ours put there).
function isList(value: unknown): value is string[] {
  return Array.isArray(value);
}

function isHash(value: unknown): value is Hash {
  return valueType(value) === "hash";
}

function isZset(value: unknown): value is Map<string, ZMember> {
  return value instanceof Map;
}

function isEmptyContainer(value: unknown): boolean {
  if (Array.isArray(value)) return value.length === 0;
  if (value instanceof Map || value instanceof Set) return value.size === 0;
  if (valueType(value) === "hash" && typeof value === "object" && value !== null) return Object.keys(value).length === 0;
  return false;
}
