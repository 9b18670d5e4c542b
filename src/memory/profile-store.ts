import type { Container, ItemDefinition } from "@azure/cosmos";
import { loadCosmosSdk } from "../cosmos-sdk";
import type { Config } from "../config";
import { DeadlineExceeded, withDeadline } from "../http/deadline";
import { PreconditionFailedError, ServiceUnavailableError } from "../http/errors";
import { namesEtag } from "../http/etag";
import { validId } from "../http/ids";
import { outageBreaker, type OutageBreaker } from "./outage-breaker";

export type Preferences = Record<string, unknown>;

/** The document as Cosmos DB stores it: partition key /user_id, one per user. */
interface ProfileDocument extends ItemDefinition {
  id: string;
  user_id: string;
  preferences: Preferences;
  /** Seconds until Cosmos deletes an untouched document. Activity rewrites it, restarting the clock. */
  ttl: number;
  updated_at: string;
}

export interface Profile {
  preferences: Preferences;
  /** Changes on every write of the preferences (and only then: a TTL refresh keeps it). */
  etag: string | undefined;
  updatedAt: string | undefined;
  /** When Cosmos last modified the document, in ms: tells whether its TTL needs refreshing. */
  modifiedAt: number | undefined;
}

export type ProfileSettings = NonNullable<Config["cosmos"]>;

const EMPTY: Profile = { preferences: {}, etag: undefined, updatedAt: undefined, modifiedAt: undefined };

/** Our ETag: derived from updated_at, so only a write of the preferences changes it. */
function etagOf(document: ProfileDocument): string {
  return `"${Date.parse(document.updated_at).toString(36)}"`;
}

/** Cosmos answered with something other than the user's profile: a fault of its data, not an outage. */
class NotAProfile extends Error {
  override name = "NotAProfile";
}

/**
 * What Cosmos returned, checked rather than trusted: one user's profile document, or nothing.
 * Anything else (another document, the container's own metadata) is an error, never a profile.
 */
function parseDocument(user: string, resource: unknown): ProfileDocument {
  const document = resource as Partial<ProfileDocument> | null;
  const preferences = document?.preferences;
  if (
    document?.id !== user ||
    document.user_id !== user ||
    typeof preferences !== "object" ||
    preferences === null ||
    Array.isArray(preferences) ||
    typeof document.updated_at !== "string" ||
    Number.isNaN(Date.parse(document.updated_at))
  ) {
    throw new NotAProfile("Cosmos returned something that is not this user's profile document");
  }
  return document as ProfileDocument;
}

function toProfile(document: ProfileDocument | undefined): Profile {
  if (!document) return EMPTY;
  return {
    preferences: document.preferences,
    etag: etagOf(document),
    updatedAt: document.updated_at,
    modifiedAt: typeof document._ts === "number" ? document._ts * 1000 : undefined,
  };
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "number" ? code : undefined;
}

/**
 * Failures that say Cosmos is down for everyone: no answer in time, no connection, a 5xx. A 404,
 * a lost race or a 429 (one partition's throughput) say nothing about other users' calls.
 */
function isOutage(error: unknown): boolean {
  if (error instanceof DeadlineExceeded) return true;
  if (error instanceof NotAProfile) return false;
  const status = statusOf(error);
  return status === undefined || status === 408 || status >= 500;
}

/**
 * Long-term profiles in Azure Cosmos DB: point reads and writes by id = partition key = user id.
 * Every call is bounded by COSMOS_TIMEOUT_MS and the SDK retries nothing, so a slow Cosmos costs a
 * chat turn one timeout at most (the turn then goes on without preferences); and once a call found
 * it down, the isolate skips it for COSMOS_BREAKER_SECONDS, so a Cosmos that hangs costs one
 * timeout per isolate per interval, not one per turn. Only a profile write that lost a race reads
 * and writes again, within a deadline.
 */
export class ProfileStore {
  private readonly breaker: OutageBreaker;

  constructor(
    private readonly container: Container,
    private readonly settings: ProfileSettings,
  ) {
    this.breaker = outageBreaker({ openMs: settings.breakerSeconds * 1000 });
  }

  /** Cosmos work under COSMOS_TIMEOUT_MS; past it, the request is aborted and the caller told. */
  private async bounded<T>(what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    try {
      return await withDeadline(work(controller.signal), this.settings.timeoutMs, undefined, `cosmos ${what}`);
    } catch (error) {
      if (error instanceof DeadlineExceeded) controller.abort();
      throw error;
    }
  }

  /** A call of the profile API or a turn: skipped at once while Cosmos is known to be down. */
  private guarded<T>(what: string, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    return this.breaker.run(() => this.bounded(what, work), isOutage);
  }

  /**
   * The one document a user id names. The SDK puts the id into the REST path as it is, so an id
   * that is not a plain one (`..`, a `/`) could address the container or another document: such
   * an id never gets this far.
   */
  private document(user: string) {
    const id = validId(user, "user");
    return this.container.item(id, id);
  }

  private async readDocument(user: string): Promise<ProfileDocument | undefined> {
    return this.guarded("read", async (abortSignal) => {
      const { resource, statusCode } = await this.document(user).read({ abortSignal });
      if (statusCode === 404 || resource === undefined) return undefined;
      return parseDocument(user, resource);
    });
  }

  /** The user's profile; a user without a document has empty preferences. */
  async read(user: string): Promise<Profile> {
    return toProfile(await this.readDocument(user));
  }

  /**
   * Writes new preferences, computed from the current ones, if the caller's If-Match allows it.
   * Concurrent writers cannot lose each other's updates: the write carries Cosmos's own ETag,
   * and a conflict re-reads and re-applies (so a PATCH merges onto the latest version).
   */
  async update(user: string, ifMatch: string | undefined, change: (current: Preferences) => Preferences, now = Date.now()): Promise<Profile> {
    const deadline = Date.now() + 4 * this.settings.timeoutMs;
    for (let attempt = 0; attempt < 10 && Date.now() < deadline; attempt++) {
      // Back off a little, at random, so racing writers stop colliding.
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
      const current = await this.readDocument(user);
      if (ifMatch !== undefined && !matches(ifMatch, current)) {
        throw new PreconditionFailedError("The profile changed since you read it (If-Match does not match its ETag).");
      }
      const previous = current ? Date.parse(current.updated_at) : 0;
      const next: ProfileDocument = {
        id: user,
        user_id: user,
        preferences: change(current?.preferences ?? {}),
        ttl: this.settings.profileTtlSeconds,
        // Strictly increasing, so two writes in one millisecond still get different ETags.
        updated_at: new Date(Math.max(now, previous + 1)).toISOString(),
      };
      try {
        const written = await this.guarded("write", async (abortSignal) =>
          current
            ? this.document(user).replace<ProfileDocument>(next, { abortSignal, accessCondition: { type: "IfMatch", condition: current._etag! } })
            : this.container.items.create<ProfileDocument>(next, { abortSignal }),
        );
        return toProfile(written.resource ? parseDocument(user, written.resource) : next);
      } catch (error) {
        const status = statusOf(error);
        if (status === 412 || status === 409) continue; // someone wrote in between: read again
        throw error;
      }
    }
    throw new ServiceUnavailableError("The profile is being changed too often to update it now; try again.", { code: "profile_contended" });
  }

  /** Restarts the document's TTL clock without touching preferences or our ETag. */
  async touch(user: string): Promise<void> {
    await this.guarded("touch", (abortSignal) =>
      this.document(user).patch([{ op: "set", path: "/ttl", value: this.settings.profileTtlSeconds }], { abortSignal }),
    );
  }

  /** Removes the profile; true if there was one. */
  async remove(user: string): Promise<boolean> {
    try {
      await this.guarded("delete", (abortSignal) => this.document(user).delete({ abortSignal }));
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  }

  /** Until when calls skip Cosmos after an outage (ms since the epoch), for readiness to report. */
  skippedUntil(): number | undefined {
    return this.breaker.openUntil();
  }

  /** Readiness: the container answers. Asked even while calls skip Cosmos; its answer ends the skipping. */
  async ping(): Promise<void> {
    await this.bounded("ping", (abortSignal) => this.container.read({ abortSignal }));
    this.breaker.close();
  }
}

function matches(ifMatch: string, current: ProfileDocument | undefined): boolean {
  return namesEtag(ifMatch, current === undefined ? undefined : etagOf(current));
}

const stores = new WeakMap<ProfileSettings, ProfileStore>();

/** One Cosmos client per isolate, made on first use (which is also when the SDK is loaded). */
export async function profileStore(settings: ProfileSettings): Promise<ProfileStore> {
  let store = stores.get(settings);
  if (!store) {
    const { CosmosClient } = await loadCosmosSdk();
    const client = new CosmosClient({
      endpoint: settings.endpoint,
      key: settings.key,
      connectionPolicy: {
        // Discovery and background refresh cost requests (and timers) a worker cannot afford;
        // requests go to the account endpoint, which routes them.
        enableEndpointDiscovery: false,
        enableBackgroundEndpointRefreshing: false,
        requestTimeout: settings.timeoutMs,
        retryOptions: { maxRetryAttemptCount: 0, fixedRetryIntervalInMilliseconds: 0, maxWaitTimeInSeconds: 0 },
      },
    });
    store = new ProfileStore(client.database(settings.database).container(settings.container), settings);
    stores.set(settings, store);
  }
  return store;
}
