import { Hono, type Context } from "hono";
import type { AppEnv } from "../auth/app-env";
import { userOf } from "../auth/caller";
import type { Config } from "../config";
import { readJsonBody } from "../http/body";
import { ApiError, InvalidRequestError, ServiceUnavailableError } from "../http/errors";
import { namesEtag } from "../http/etag";
import { describeError, log } from "../http/log";
import { mergePatch } from "../http/merge-patch";
import { utf8Length } from "../http/utf8";
import { profileCache } from "../memory/profile-cache";
import { profileStore, type Preferences, type Profile, type ProfileStore } from "../memory/profile-store";
import { redisClient } from "../redis/client";
import { decodeCursor, encodeCursor, type ExportedSession } from "../memory/export-page";
import { sessionStore } from "../memory/session-store";
import type { Recalled } from "../memory/recall-index";

/** Runs work on the profile store. Cosmos failures become a clear 503; our own errors (412, 400) pass as they are. */
async function withProfiles<T>(config: Config, work: (store: ProfileStore) => Promise<T>): Promise<T> {
  if (!config.cosmos) {
    throw new ServiceUnavailableError("Profiles are not configured (COSMOS_ENDPOINT, COSMOS_KEY).", { code: "profile_unavailable" });
  }
  try {
    return await work(await profileStore(config.cosmos));
  } catch (error) {
    if (error instanceof ApiError) throw error;
    log("warn", "profile_unavailable", { op: "api", reason: describeError(error) });
    throw new ServiceUnavailableError("The profile store (Cosmos DB) is unavailable right now; try again shortly.", { code: "profile_unavailable" });
  }
}

function isPreferences(value: unknown): value is Preferences {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The preferences a body sets, within the size every prompt can afford. */
function preferencesFrom(value: unknown, maxBytes: number, param = "preferences"): Preferences {
  if (!isPreferences(value)) throw new InvalidRequestError("preferences must be a JSON object.", { param });
  if (utf8Length(JSON.stringify(value)) > maxBytes) {
    throw new InvalidRequestError(`preferences are larger than ${maxBytes} bytes; they go into every prompt.`, { status: 413, param });
  }
  return value;
}

function respond(c: Context<AppEnv>, profile: Profile): Response {
  if (profile.etag) c.header("ETag", profile.etag);
  return c.json({ preferences: profile.preferences, updated_at: profile.updatedAt ?? null });
}

/**
 * After a write, the next chat turn must use the new preferences: they go into the cache at once
 * (a turn in flight caches only where nothing newer is, so it cannot put the old ones back).
 */
async function cacheProfile(config: Config, user: string, preferences: Preferences): Promise<void> {
  try {
    await profileCache.write(redisClient(config).pipeline(), user, preferences, config.cosmos!.cacheTtlSeconds).exec();
  } catch {
    // The write stands; the stale copy expires within PROFILE_CACHE_TTL_SECONDS.
    log("warn", "profile_cache_update_failed");
  }
}

/** Reads and checks the body first (a bad one is a 400 whatever Cosmos's state), then writes. */
async function write(c: Context<AppEnv>, parse: (body: unknown) => (current: Preferences) => Preferences): Promise<Response> {
  const config = c.get("config");
  const user = userOf(c.get("caller"));
  const change = parse(await readJsonBody(c.req.raw, config.limits.maxBodyBytes));
  const profile = await withProfiles(config, (store) => store.update(user, c.req.header("If-Match"), change));
  await cacheProfile(config, user, profile.preferences);
  return respond(c, profile);
}

/** An export page's session as the API shows it; a session cut by a page says so on both sides. */
function exportedSession(session: ExportedSession) {
  return {
    id: session.id,
    last_active_at: new Date(session.lastActiveAt).toISOString(),
    expires_at: new Date(session.expiresAt).toISOString(),
    summary: session.summary,
    messages: session.messages,
    ...(session.continued ? { continued: true } : {}),
    ...(session.complete ? {} : { has_more_messages: true }),
    ...(session.conversationMetadata ? { conversation_metadata: session.conversationMetadata } : {}),
  };
}

/** A message recall holds, as the memories API shows it. */
function exportedMemory(memory: Recalled) {
  return { id: memory.id, session: memory.session, role: memory.role, text: memory.text, created_at: new Date(memory.at).toISOString() };
}

/** GET, PUT, PATCH and DELETE /v1/profile: the caller's own long-term preferences. */
export const profileRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const user = userOf(c.get("caller"));
    const profile = await withProfiles(c.get("config"), (store) => store.read(user));
    const ifNoneMatch = c.req.header("If-None-Match");
    if (profile.etag && ifNoneMatch !== undefined && namesEtag(ifNoneMatch, profile.etag)) {
      return c.body(null, 304, { ETag: profile.etag });
    }
    return respond(c, profile);
  })
  .put("/", (c) =>
    write(c, (body) => {
      if (!isPreferences(body) || !("preferences" in body)) {
        throw new InvalidRequestError('Send { "preferences": { ... } }.', { param: "preferences" });
      }
      const preferences = preferencesFrom(body.preferences, c.get("config").limits.maxProfileBytes);
      return () => preferences;
    }),
  )
  .patch("/", (c) => {
    const type = c.req.header("Content-Type")?.split(";")[0]?.trim().toLowerCase();
    if (type && type !== "application/merge-patch+json" && type !== "application/json") {
      throw new InvalidRequestError("PATCH takes application/merge-patch+json (RFC 7396).", { status: 415 });
    }
    return write(c, (patch) => {
      if (!isPreferences(patch)) throw new InvalidRequestError("A merge patch of the profile is a JSON object.", { param: "preferences" });
      return (current) => {
        const merged = mergePatch({ preferences: current }, patch);
        const next = isPreferences(merged) ? (merged.preferences ?? {}) : undefined;
        return preferencesFrom(next, c.get("config").limits.maxProfileBytes);
      };
    });
  })
  .get("/export", async (c) => {
    const config = c.get("config");
    const user = userOf(c.get("caller"));
    const raw = c.req.query("cursor");
    const cursor = raw === undefined ? undefined : decodeCursor(raw);
    const exportedAt = new Date().toISOString();
    // The profile comes with the first page; a store that is down is a 503, never a partial page.
    const profile = cursor ? undefined : config.cosmos ? await withProfiles(config, (store) => store.read(user)) : { preferences: {}, updatedAt: undefined };
    const page = await sessionStore(config).exportPage(user, cursor);
    return c.json({
      object: "export",
      user,
      exported_at: exportedAt,
      ...(profile ? { profile: { preferences: profile.preferences, updated_at: profile.updatedAt ?? null } } : {}),
      sessions: page.sessions.map(exportedSession),
      ...(page.memories.length > 0 ? { memories: page.memories.map(exportedMemory) } : {}),
      has_more: page.next !== undefined,
      next_cursor: page.next ? encodeCursor(page.next) : null,
    });
  })
  .delete("/", async (c) => {
    const config = c.get("config");
    const user = userOf(c.get("caller"));
    const sessions = sessionStore(config);
    const now = Date.now();
    // The stamp first, so a preference learned meanwhile cannot write the profile back after its
    // deletion; then Cosmos: if it fails, nothing else is gone and the client can simply retry.
    await sessions.markErased(user, now);
    const existed = config.cosmos ? await withProfiles(config, (store) => store.remove(user)) : false;
    const { sessionsDeleted, sessionsRemaining } = await sessions.erase(user, now);
    // A user with more sessions than one request erases: 202, and the next DELETE goes on.
    const complete = sessionsRemaining === 0;
    return c.json(
      { object: "profile", deleted: complete, profile_existed: existed, sessions_deleted: sessionsDeleted, sessions_remaining: sessionsRemaining },
      complete ? 200 : 202,
      complete ? {} : { "Retry-After": "0" },
    );
  });
