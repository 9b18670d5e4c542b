import { errors, Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../config";
import { ApiError, ServiceUnavailableError } from "../http/errors";
import { log } from "../http/log";

const clients = new WeakMap<NonNullable<Config["redis"]>, Redis>();

function settingsOf(config: Config): NonNullable<Config["redis"]> {
  if (!config.redis) {
    throw new ServiceUnavailableError("Session memory is not configured (UPSTASH_REDIS_REST_URL, UPSTASH_REDIS_REST_TOKEN).", {
      code: "memory_unavailable",
    });
  }
  return config.redis;
}

/**
 * Every command is bounded in time and not retried: on the hot path a Redis that is down must
 * cost one timeout and a 503, not a retry storm.
 */
function newClient(settings: NonNullable<Config["redis"]>): Redis {
  return new Redis({
    url: settings.url,
    token: settings.token,
    retry: false,
    signal: () => AbortSignal.timeout(settings.timeoutMs),
    enableTelemetry: false,
    enableAutoPipelining: false,
    // Messages are JSON we parse ourselves; the SDK guessing types would turn "42" into 42.
    automaticDeserialization: false,
    // Everything stored is UTF-8 text we wrote, so replies need no base64 round trip (which
    // Upstash defaults to for binary values): decoding it was ~2% of a turn's CPU.
    responseEncoding: false,
  });
}

/** One Upstash client per isolate, for everything but a session's turns. */
export function redisClient(config: Config): Redis {
  const settings = settingsOf(config);
  let client = clients.get(settings);
  if (!client) {
    client = newClient(settings);
    clients.set(settings, client);
  }
  return client;
}

/**
 * A client of its own for one session turn (or read). @upstash/redis keeps the sync token of its last answer
 * and sends it with its next request, so its reads wait for its writes on an Upstash Global
 * replica; shared by an isolate's concurrent turns, that token would be any turn's. A turn's own
 * client starts from the session's latest save (see sessionSyncToken) and ends holding its own.
 */
export function sessionRedis(config: Config, syncToken: string | undefined): Redis {
  const client = newClient(settingsOf(config));
  if (syncToken) client.readYourWritesSyncToken = syncToken;
  return client;
}

/**
 * What may be logged of a Redis failure. The SDK's messages end with the whole command, which
 * holds users' messages, so that part never leaves this function.
 */
export function describeRedisError(error: unknown): string {
  if (!(error instanceof Error)) return "unknown error";
  const message = error.message.split(", command was:")[0]!.split(": [")[0]!;
  return `${error.name}: ${message.slice(0, 200)}`;
}

/** Runs Redis work; any failure becomes a 503 the client can act on, logged without content. */
export async function withRedis<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ApiError) throw error; // a verdict (429), not a failure
    log("error", "redis_failed", { op: what, error: describeRedisError(error) });
    throw new ServiceUnavailableError("Session memory (Redis) is unavailable right now; try again shortly.", {
      code: "memory_unavailable",
    });
  }
}

/**
 * Runs a Redis write whose outcome matters to the client (a turn's save). Redis answering with an
 * error means nothing was written: 503 memory_unavailable, retry at will. No answer at all (a
 * timeout, a broken connection) means the write may still commit: 503 turn_outcome_unknown, and
 * only a retry with the same Idempotency-Key is sure not to store the turn twice.
 */
export async function withRedisWrite<T>(what: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ApiError) throw error;
    const refused = error instanceof errors.UpstashError && !(error instanceof errors.UpstashJSONParseError);
    log("error", "redis_failed", { op: what, error: describeRedisError(error), outcome: refused ? "not_written" : "unknown" });
    if (refused) {
      throw new ServiceUnavailableError("Session memory (Redis) is unavailable right now; try again shortly.", { code: "memory_unavailable" });
    }
    throw new ServiceUnavailableError(
      "Session memory did not confirm the save in time, so this turn may or may not be stored. Retry with the same Idempotency-Key: that never stores it twice.",
      { code: "turn_outcome_unknown" },
    );
  }
}
