import { log } from "../http/log";

const encoder = new TextEncoder();

/** The Workers runtime's own stream, typed by shape: code that runs in Node reads this file's types too. */
declare const IdentityTransformStream: new () => { readable: ReadableStream<Uint8Array>; writable: WritableStream<Uint8Array> };

/**
 * One streamed reply as its client is sent it, kept while the reply is generated (and a while
 * after) so that a client whose connection dropped can attach again and get the rest.
 *
 * Each write of the relay is one piece, followed by an SSE block that carries only its number
 * (`id: 3`): a browser's EventSource, or any client that keeps the last event id, asks for the
 * rest with `Last-Event-ID: 3` and gets the pieces after it. A block with no data dispatches no
 * event, so clients that ignore ids (the openai SDK among them) see the stream they always did.
 * A client has a piece once it has its id: a connection that drops inside one gets it again whole.
 *
 * Appending never waits for a reader: the model is read at its own pace whoever is listening, and
 * a client that stopped reading holds back nothing but its own copy.
 */
export class ReplyLog {
  private readonly pieces: string[] = [];
  private endedAt: number | undefined;
  private endedBadly = false;
  private wake: (() => void)[] = [];
  private began: ((streaming: boolean) => void) | undefined;
  private finish: (() => void) | undefined;
  /** Whether the request streams its reply here (false: it answered otherwise, or failed first); a retry waits to know. */
  readonly streaming = new Promise<boolean>((resolve) => (this.began = resolve));
  /** Settles when the reply has ended, well or not. */
  readonly done = new Promise<void>((resolve) => (this.finish = resolve));

  begin(): void {
    this.began?.(true);
    this.began = undefined;
  }

  /** The request ended without streaming here (if it did not begin to): there is nothing to attach to. */
  abandon(): void {
    if (!this.began) return;
    this.began(false);
    this.began = undefined;
    this.end(true);
  }

  /** When the reply ended (ms since the epoch), for how long a finished one is kept; undefined while it streams. */
  get ended(): number | undefined {
    return this.endedAt;
  }

  /** It ended with a failure instead of its end: a retry should run the turn again, not be shown the failure. */
  get failed(): boolean {
    return this.endedBadly;
  }

  append(text: string): void {
    if (this.endedAt !== undefined || !text) return;
    this.pieces.push(`${text}id: ${this.pieces.length + 1}\n\n`);
    this.notify();
  }

  end(failed = false): void {
    if (this.endedAt !== undefined) return;
    this.endedAt = Date.now();
    this.endedBadly = failed;
    this.finish?.();
    this.notify();
  }

  /**
   * The reply from after piece `after` (0: from the start), then each piece as it comes, until the
   * end. Written to a stream of the runtime's own, which sends each piece to the client itself (a
   * JavaScript stream would be pulled through JavaScript, piece by piece); a client that drops off
   * the network fails the write, and is logged as what it is.
   */
  read(after = 0): ReadableStream<Uint8Array> {
    // An id we never sent counts as all there is now, so nothing that comes later is skipped.
    let next = Math.min(after, this.pieces.length);
    const { readable, writable } = new IdentityTransformStream();
    const writer = writable.getWriter();
    const copy = async () => {
      for (;;) {
        while (next >= this.pieces.length && this.endedAt === undefined) await new Promise<void>((resolve) => this.wake.push(resolve));
        if (next >= this.pieces.length) return writer.close();
        const text = this.pieces.slice(next).join("");
        next = this.pieces.length;
        await writer.write(encoder.encode(text));
      }
    };
    copy().catch(() => log("info", "client_gone"));
    return readable;
  }

  private notify(): void {
    const waiting = this.wake;
    this.wake = [];
    for (const resolve of waiting) resolve();
  }
}
