import { DurableObject } from "cloudflare:workers";
import { isNewer } from "./session-sync";

const TOKEN = "token";
const ORDER = "order";

/**
 * One per session (SYNC_FALLBACK=durable-object): the Upstash sync token of the session's latest
 * save, for turns whose client echoes none. A Durable Object is one instance worldwide with
 * strongly consistent storage, so a turn in any isolate or colo reads the token the previous turn
 * left, and its load then waits for a replica that has that save.
 */
export class SessionSync extends DurableObject {
  /** The token of the session's latest save, or null if it has none (new, or past its TTL). */
  async latest(): Promise<string | null> {
    return (await this.ctx.storage.get<string>(TOKEN)) ?? null;
  }

  /**
   * Keeps a save's token until the session would expire (`ttlSeconds` after this save), unless it
   * holds a later save's: `order` is the save's place in the session, and of two saves that raced,
   * the later one's report may arrive first. (The object's input gate keeps the read and the write
   * together.)
   */
  async saved(token: string, ttlSeconds: number, order?: number): Promise<void> {
    if (isNewer(order, await this.ctx.storage.get<number>(ORDER))) {
      await this.ctx.storage.put(order === undefined ? { [TOKEN]: token } : { [TOKEN]: token, [ORDER]: order });
    }
    await this.ctx.storage.setAlarm(Date.now() + ttlSeconds * 1000);
  }

  /** The session has expired: nothing of it stays here either. */
  override async alarm(): Promise<void> {
    await this.ctx.storage.deleteAll();
  }
}
