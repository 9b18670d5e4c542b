import { DeadlineExceeded } from "./deadline";

/**
 * withDeadline for the many waits of one stream (each read from the upstream): a wait fails once
 * it has lasted `ms`. One timer serves them all: it is armed on the first wait and, when it fires
 * while a wait is still young, re-armed for what is left of it, so a stream of thousands of
 * chunks sets a handful of timers, not one per chunk.
 * Waits are one at a time. Once one has failed every later one fails too: the stream is over.
 */
export class IdleDeadline {
  /** When the wait in progress began (ms); undefined between waits. */
  private since: number | undefined;
  /** Fails the wait in progress. Each wait has a promise of its own, so nothing a finished wait resolved with is kept. */
  private rejectWait: ((error: DeadlineExceeded) => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private failure: DeadlineExceeded | undefined;
  private stopped = false;

  constructor(
    private readonly ms: number,
    private readonly what: string,
  ) {}

  /** `work`, unless it takes `ms`: then DeadlineExceeded. */
  async wait<T>(work: Promise<T>): Promise<T> {
    if (this.failure || this.stopped) {
      work.catch(() => {}); // nobody waits on it any more; its failure must not go unhandled
      throw (this.failure ??= this.stoppedError());
    }
    this.since = Date.now();
    this.timer ??= setTimeout(this.check, this.ms);
    try {
      return await new Promise<T>((resolve, reject) => {
        this.rejectWait = reject;
        work.then(resolve, reject);
      });
    } finally {
      this.since = undefined;
      this.rejectWait = undefined;
    }
  }

  /** Clears the timer once the stream is over; a wait still in progress fails. */
  stop(): void {
    clearTimeout(this.timer);
    this.stopped = true;
    // The error only for a wait that is there to fail: an Error captures a stack trace, and every
    // stream ends with a stop() (two a streamed turn) that almost never finds one.
    if (this.rejectWait) this.fail(this.stoppedError());
  }

  private stoppedError(): DeadlineExceeded {
    return new DeadlineExceeded(`${this.what} was stopped`);
  }

  private fail(error: DeadlineExceeded): void {
    this.failure ??= error;
    this.rejectWait?.(this.failure);
  }

  private readonly check = () => {
    this.timer = undefined;
    // Between waits nothing is timed; the next wait arms the timer again.
    if (this.since === undefined) return;
    const waited = Date.now() - this.since;
    if (waited >= this.ms) this.fail(new DeadlineExceeded(`${this.what} did not finish within ${this.ms} ms`));
    else this.timer = setTimeout(this.check, this.ms - waited);
  };
}
