import type { Redis } from "@upstash/redis/cloudflare";
import { keys } from "../redis/keys";
import type { Preferences } from "./profile-store";

type Commands = ReturnType<Redis["pipeline"]> | ReturnType<Redis["multi"]>;

/**
 * The preferences cached in Redis (`profile:{user}`), so a turn on a cache hit costs Cosmos
 * nothing. The only module that writes them: a profile write replaces them, an erasure replaces
 * them with none, and a turn that read Cosmos after a miss adds them only where nothing newer is.
 */
export const profileCache = {
  /** Queues the read of the cached preferences (parse the answer with `parse`). */
  read(commands: Commands, user: string) {
    return commands.get(keys.profile(user));
  },

  /**
   * Queues a write. `ifAbsent` is for a turn's copy, read from Cosmos before a profile write may
   * have cached something newer: it must never put the old preferences back.
   */
  write(commands: Commands, user: string, preferences: Preferences, ttlSeconds: number, { ifAbsent = false } = {}) {
    const value = JSON.stringify({ preferences });
    return ifAbsent ? commands.set(keys.profile(user), value, { ex: ttlSeconds, nx: true }) : commands.set(keys.profile(user), value, { ex: ttlSeconds });
  },

  /** The cached preferences, or undefined on a miss (or anything unreadable, which counts as one). */
  parse(raw: unknown): Preferences | undefined {
    if (typeof raw !== "string") return undefined;
    try {
      const parsed = JSON.parse(raw) as { preferences?: unknown } | null;
      const preferences = parsed?.preferences;
      return preferences && typeof preferences === "object" && !Array.isArray(preferences) ? (preferences as Preferences) : undefined;
    } catch {
      return undefined;
    }
  },
};
