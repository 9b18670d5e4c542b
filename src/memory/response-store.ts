import type { Redis } from "@upstash/redis/cloudflare";
import type { Config } from "../config";
import { keys } from "../redis/keys";
import { redisClient, withRedis } from "../redis/client";
import { parseResponseRecord, type StoredResponse } from "./response-record";

/**
 * The Responses API's records, one hash per session (written by the turn's save, TurnMemory). A
 * record lives and dies with its session: its TTL, its deletion, the user's erasure.
 */
export class ResponseStore {
  constructor(private readonly redis: Redis) {}

  get(user: string, session: string, id: string): Promise<StoredResponse | undefined> {
    return withRedis("get_response", async () => parseResponseRecord(await this.redis.hget<string>(keys.responses(user, session), id)));
  }

  /** Forgets one response (the session's messages stay); false when there was none. */
  remove(user: string, session: string, id: string): Promise<boolean> {
    return withRedis("delete_response", async () => (await this.redis.hdel(keys.responses(user, session), id)) > 0);
  }
}

/** The response store over the isolate's client, or over `redis` (a client holding a session's sync token). */
export function responseStore(config: Config, redis: Redis = redisClient(config)): ResponseStore {
  return new ResponseStore(redis);
}
