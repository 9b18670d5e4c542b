/**
 * Remembers, for a short while, that a store is down, so that every caller in the isolate does
 * not wait out its own timeout against it. After a failure that says "down" (not a 404 or a lost
 * race), calls fail at once for `openMs`; then one call is let through to try again, the others
 * still failing at once until it answers, and its outcome closes or reopens the breaker.
 */
export interface OutageBreakerOptions {
  /** How long calls skip the store after it failed; 0 turns the breaker off. */
  openMs: number;
  now?: () => number;
}

/** The store was skipped because it failed a moment ago. */
export class StoreSkipped extends Error {
  override name = "StoreSkipped";
}

export interface OutageBreaker {
  /** Runs `call` unless the store is known to be down; `isOutage` tells which failures count. */
  run<T>(call: () => Promise<T>, isOutage: (error: unknown) => boolean): Promise<T>;
  /** Until when calls are skipped (ms since the epoch), or undefined while the store answers. */
  openUntil(): number | undefined;
  /** The store answered another caller (a readiness probe): stop skipping it. */
  close(): void;
}

export function outageBreaker({ openMs, now = Date.now }: OutageBreakerOptions): OutageBreaker {
  let downUntil: number | undefined;
  let probing = false;

  return {
    async run(call, isOutage) {
      if (openMs === 0) return call();
      const probe = downUntil !== undefined;
      if (probe && (now() < downUntil! || probing)) {
        throw new StoreSkipped(`skipped: it failed less than ${openMs} ms ago`);
      }
      probing = probe;
      try {
        const result = await call();
        downUntil = undefined;
        return result;
      } catch (error) {
        if (isOutage(error)) downUntil = now() + openMs;
        else if (probe) downUntil = undefined; // it answered, if only to say no
        throw error;
      } finally {
        if (probe) probing = false;
      }
    },
    openUntil: () => downUntil,
    close: () => {
      downUntil = undefined;
    },
  };
}
