/**
 * Collects the phases of a request (auth, memory, upstream, persist) for the Server-Timing header,
 * so an operator can see in the browser's network panel where the time went.
 */
export class ServerTiming {
  private readonly entries: string[] = [];

  async measure<T>(name: string, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.record(name, performance.now() - started);
    }
  }

  record(name: string, durationMs: number): void {
    this.entries.push(`${name};dur=${durationMs.toFixed(1)}`);
  }

  /** A phase with no time of its own (it ran inside another), described: `recall;desc="3 hits"`. */
  note(name: string, description: string): void {
    this.entries.push(`${name};desc="${description.replace(/["\\]/g, "")}"`);
  }

  header(): string {
    return this.entries.join(", ");
  }
}
