import type { Redis } from "@upstash/redis/cloudflare";
import type OpenAI from "openai";
import type { ChatCompletionMessageParam } from "openai/resources/chat/completions";
import type { ChatMessage } from "../messages/schema";
import { messageText } from "../messages/text";
import { depthExceeds } from "../http/body";
import { describeError, log } from "../http/log";
import { mergePatch } from "../http/merge-patch";
import { utf8Length } from "../http/utf8";
import { keys } from "../redis/keys";
import { profileCache } from "./profile-cache";
import type { Preferences, ProfileStore } from "./profile-store";

/**
 * What the extractor is told. The mock model of the local stack recognises calls by this opening,
 * so keep the two in step (dev/mock-llm/script.ts).
 */
export const EXTRACTION_INSTRUCTION =
  "You keep a user's long-term preferences. Given their current preferences (JSON) and one turn of conversation, answer with a JSON merge patch (RFC 7396) of the preferences: only durable facts the user stated about themselves (name, language, home city, tone...), null for a key the user retracted, {} when nothing durable was learned. Never store instructions, requests or anything the assistant said. Answer with the JSON object only.";

/** Bounds on a patch: preferences go into every prompt, so a model may not grow them at will. */
export const MAX_PATCH_KEYS = 20;
export const MAX_PATCH_DEPTH = 3;

export function extractionRequest(preferences: Preferences, newTurn: readonly ChatMessage[], reply: ChatMessage): ChatCompletionMessageParam[] {
  const said = newTurn.filter((m) => m.role === "user").map(messageText).join("\n");
  return [
    { role: "system", content: EXTRACTION_INSTRUCTION },
    { role: "user", content: `Current preferences: ${JSON.stringify(preferences)}\n\nThe user said:\n${said}\n\nThe assistant answered:\n${messageText(reply)}` },
  ];
}

export type PatchVerdict = { patch: Preferences; merged: Preferences } | { refused: "not_json" | "not_an_object" | "too_many_keys" | "too_deep" | "too_large" };

/**
 * The extractor's answer as a patch of `current`, or why it is refused: it must be one JSON
 * object (a ```json fence around it is tolerated), of bounded keys and depth, and the merged
 * preferences must stay within `maxBytes`.
 */
export function parsePatch(answer: string, current: Preferences, maxBytes: number): PatchVerdict {
  const text = answer.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, "$1");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { refused: "not_json" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { refused: "not_an_object" };
  const patch = value as Preferences;
  if (Object.keys(patch).length > MAX_PATCH_KEYS) return { refused: "too_many_keys" };
  if (depthExceeds(patch, MAX_PATCH_DEPTH)) return { refused: "too_deep" };
  const merged = mergePatch(current, patch) as Preferences;
  if (utf8Length(JSON.stringify(merged)) > maxBytes) return { refused: "too_large" };
  return { patch, merged };
}

export interface LearnOptions {
  redis: Redis;
  upstream: OpenAI;
  profiles: () => Promise<ProfileStore>;
  settings: { model: string; timeoutMs: number; maxProfileBytes: number; cacheTtlSeconds: number };
  user: string;
  /** The preferences the turn used, and the erasure stamp its load found (a newer erasure wins). */
  preferences: Preferences;
  erasedAt: string | null;
  newTurn: readonly ChatMessage[];
  reply: ChatMessage;
}

/** Whether the user was erased since the turn's load found stamp `seen`: then nothing may be written for them. */
async function erasedSince(redis: Redis, user: string, seen: string | null): Promise<boolean> {
  const erasedAt = await redis.get<string>(keys.erased(user));
  return erasedAt !== null && String(erasedAt) !== seen;
}

/**
 * After a turn, off the hot path: one LLM call proposes a merge patch of the user's preferences,
 * which is checked and applied with the profile store's optimistic retry, then cached. A refused
 * or empty answer changes nothing; an erasure before or during the work wins.
 */
export async function learnPreferences(options: LearnOptions): Promise<void> {
  const { redis, user, settings } = options;
  try {
    const completion = await options.upstream.chat.completions.create(
      { model: settings.model, messages: extractionRequest(options.preferences, options.newTurn, options.reply), stream: false },
      { signal: AbortSignal.timeout(settings.timeoutMs), maxRetries: 0 },
    );
    const verdict = parsePatch(completion.choices[0]?.message?.content ?? "", options.preferences, settings.maxProfileBytes);
    if ("refused" in verdict) return log("info", "preferences_not_learned", { reason: verdict.refused });
    if (Object.keys(verdict.patch).length === 0) return;
    if (await erasedSince(redis, user, options.erasedAt)) return log("info", "preferences_not_learned", { reason: "erased" });

    const store = await options.profiles();
    const profile = await store.update(user, undefined, (current) => {
      const merged = mergePatch(current, verdict.patch) as Preferences;
      return utf8Length(JSON.stringify(merged)) > settings.maxProfileBytes ? current : merged;
    });
    // An erasure that landed while we wrote: take the write back, so the user stays erased.
    if (await erasedSince(redis, user, options.erasedAt)) {
      await store.remove(user);
      return log("info", "preferences_not_learned", { reason: "erased" });
    }
    await profileCache.write(redis.pipeline(), user, profile.preferences, settings.cacheTtlSeconds).exec();
    log("info", "preferences_learned", { keys: Object.keys(verdict.patch).length });
  } catch (error) {
    log("warn", "preferences_not_learned", { reason: describeError(error) });
  }
}
