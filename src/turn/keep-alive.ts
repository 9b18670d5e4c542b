/** Well inside the 70 s an object with no incoming request is kept for before it may be evicted. */
const HEARTBEAT_MS = 30_000;

export interface KeepAliveOptions {
  /** Whether work that must not be cut off is still going on. */
  busy: () => boolean;
  /** How often the alarm beats (and how long work runs before it needs to). */
  everyMs?: number;
}

/**
 * Keeps a Durable Object from being evicted while it works with no client connected: a reply
 * still being generated after its phone dropped off the network. Cloudflare may evict an object
 * 70 to 140 s after its last incoming request or alarm, even with a fetch pending (until
 * compatibility date 2026-10-01), so an alarm beats every 30 s while the work lasts. Work that
 * ends within 30 s (almost every reply) never arms it and costs nothing; longer work costs a
 * storage write a beat.
 */
export class KeepAlive {
  private armed = false;
  private readonly everyMs: number;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly options: KeepAliveOptions,
  ) {
    this.everyMs = options.everyMs ?? HEARTBEAT_MS;
  }

  /** Work has begun that may outlast its client: if anything is still going after a beat, keep beating. */
  watch(): void {
    setTimeout(() => {
      if (this.options.busy()) this.arm().catch(() => {});
    }, this.everyMs);
  }

  /** The object's alarm: beat again while the work lasts. */
  async beat(): Promise<void> {
    if (this.options.busy()) await this.storage.setAlarm(Date.now() + this.everyMs);
    else this.armed = false;
  }

  private async arm(): Promise<void> {
    if (this.armed) return;
    this.armed = true;
    try {
      await this.storage.setAlarm(Date.now() + this.everyMs);
    } catch (error) {
      this.armed = false; // the next work that outlasts a beat tries again
      throw error;
    }
  }
}
