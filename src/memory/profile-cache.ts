import type { Preferences } from "./profile-store";

/**
 * How preferences sit in the Redis cache (`profile:{user}`). Written by a turn after a cache miss,
 * by every profile write, and (empty) by an erasure; read by every turn. One format, here.
 */
export function cachedProfile(preferences: Preferences): string {
  return JSON.stringify({ preferences });
}

/** The cached preferences, or undefined on a miss (or anything unreadable, which counts as one). */
export function parseCachedProfile(raw: unknown): Preferences | undefined {
  if (typeof raw !== "string") return undefined;
  try {
    const parsed = JSON.parse(raw) as { preferences?: unknown };
    return parsed.preferences && typeof parsed.preferences === "object" ? (parsed.preferences as Preferences) : undefined;
  } catch {
    return undefined;
  }
}
