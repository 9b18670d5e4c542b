import { RedisReplyError } from "../backend";
import { WRONGTYPE } from "./errors";

/** Member -> score. */
export type SortedSet = Map<string, number>;

/** Field -> value; a class of its own, so it is never mistaken for a sorted set. */
export class Hash extends Map<string, string> {}

type Value = string | string[] | SortedSet | Hash;

interface Entry {
  value: Value;
  /** Epoch milliseconds; none: the key lives until deleted. */
  expiresAt?: number;
}

/**
 * The keys and their values, as Redis keeps them: a key holds one type (reading it as another is
 * WRONGTYPE), an expired key is gone the moment it is looked at, and an emptied list or sorted
 * set is deleted. Lists and sorted sets come back live: change them, then `store` them.
 */
export class Keyspace {
  private readonly entries = new Map<string, Entry>();

  exists(key: string): boolean {
    return this.entry(key) !== undefined;
  }

  string(key: string): string | undefined {
    const value = this.entry(key)?.value;
    if (value !== undefined && typeof value !== "string") throw new RedisReplyError(WRONGTYPE);
    return value;
  }

  list(key: string): string[] | undefined {
    const value = this.entry(key)?.value;
    if (value !== undefined && !Array.isArray(value)) throw new RedisReplyError(WRONGTYPE);
    return value;
  }

  sortedSet(key: string): SortedSet | undefined {
    const value = this.entry(key)?.value;
    if (value !== undefined && (!(value instanceof Map) || value instanceof Hash)) throw new RedisReplyError(WRONGTYPE);
    return value;
  }

  hash(key: string): Hash | undefined {
    const value = this.entry(key)?.value;
    if (value !== undefined && !(value instanceof Hash)) throw new RedisReplyError(WRONGTYPE);
    return value;
  }

  /** Writes a value, keeping the key's expiry (a new key has none); an empty list or set deletes the key. */
  store(key: string, value: Value): void {
    const isEmpty = typeof value === "string" ? false : Array.isArray(value) ? value.length === 0 : value.size === 0;
    if (isEmpty) {
      this.entries.delete(key);
      return;
    }
    const entry = this.entry(key);
    if (entry) entry.value = value;
    else this.entries.set(key, { value });
  }

  /** SET's write: the value replaces whatever was there, and so does the expiry. */
  replace(key: string, value: string, expiresAt: number | undefined): void {
    this.entries.set(key, expiresAt === undefined ? { value } : { value, expiresAt });
  }

  delete(key: string): boolean {
    return this.entry(key) !== undefined && this.entries.delete(key);
  }

  expiresAt(key: string): number | undefined {
    return this.entry(key)?.expiresAt;
  }

  /** Sets the expiry of an existing key; a time already past deletes it, as Redis does. */
  expireAt(key: string, at: number): void {
    const entry = this.entry(key);
    if (!entry) return;
    if (at <= Date.now()) this.entries.delete(key);
    else entry.expiresAt = at;
  }

  keys(): string[] {
    return [...this.entries.keys()].filter((key) => this.exists(key));
  }

  /**
   * Drops every expired key. Reads already ignore them; this only bounds memory, as keys that are
   * never read again (a rate-limit window's counter) would otherwise stay for good.
   */
  dropExpired(): void {
    for (const key of this.entries.keys()) this.entry(key);
  }

  private entry(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry?.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }
}
