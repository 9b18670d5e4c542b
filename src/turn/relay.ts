import { DeadlineExceeded } from "../http/deadline";
import { IdleDeadline } from "../http/idle-deadline";
import { ApiError, UpstreamError } from "../http/errors";
import { ReplyBuilder, type AssistantMessage, type ChunkLike } from "../messages/reply";
import type { ReplyLog } from "./reply-log";
import { EventTooLarge, SseParser } from "../http/sse";

/**
 * What the client is sent, in the protocol it speaks. The relay decides when (and whether the
 * turn is saved); the format only says what the bytes are.
 */
export interface StreamFormat {
  /** Sent at once, before the upstream's first event. */
  start(): string;
  /** What one upstream chunk becomes, given as received (`raw`, without its blank line) and parsed. */
  event(raw: string, chunk: ChunkLike): string;
  /** The end of a good stream, sent once the turn is saved. */
  end(): string;
  /** The end of a failed stream (nothing was saved, or, for turn_outcome_unknown, perhaps it was). */
  fail(error: ApiError): string;
}

export interface RelayOptions {
  /** Longest silence tolerated from the upstream between two reads, and from the client in taking one. */
  idleTimeoutMs: number;
  /** Aborts when the client disconnects (the incoming request's signal). */
  clientGone?: AbortSignal;
  /**
   * Saves the finished turn. The client sees the stream's end only after it resolves, so the next
   * request always finds this turn; if it throws, the stream ends with the format's failure instead.
   */
  complete: (reply: AssistantMessage) => Promise<void>;
  /** Told why a stream ended badly (for the log; never shown content). */
  onFailure: (reason: string) => void;
  /** The protocol the client speaks (its front door's encoding). */
  format: StreamFormat;
  /**
   * Where the reply goes instead of straight to the client: a log that any number of clients read,
   * and read again after a dropped connection (a session's Durable Object keeps it). Writing to it
   * never waits for a client.
   */
  into?: ReplyLog;
}

const encoder = new TextEncoder();

/**
 * Forwards the upstream's server-sent events to the client as each one completes (in the client's
 * protocol: `format`), rebuilding the reply on the way. The stream's end (Chat Completions'
 * `[DONE]`, Responses' response.completed) waits until the turn is saved. If the upstream fails,
 * stalls or ends without finishing, nothing is saved and the client gets the format's failure
 * instead of its end. If the client goes away, reading goes on (the caller keeps `finished` alive
 * with waitUntil) so a completed turn is still saved.
 */
export function relayStream(upstream: ReadableStream<Uint8Array>, options: RelayOptions) {
  if (options.into) return relayInto(upstream, options, options.into);
  // A stream of the runtime's own, not a JavaScript TransformStream: the runtime then sends each
  // write to the client itself instead of pulling it through JavaScript, which cost ~20 µs of CPU
  // a chunk (bench/relay-cost.ts).
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  // A client that went away errors the stream; nobody else will look at these.
  writer.closed.catch(() => {});
  let clientGone = false;

  // A write to a client that disconnected may never settle: stop waiting when the request's signal
  // says it left, or when it has not taken a chunk for as long as we would wait on the upstream.
  // One deadline for all the writes, not a timer and a listener per write: writes are one per
  // upstream read, and a timer each cost more CPU than the rest of the relay.
  const writing = new IdleDeadline(options.idleTimeoutMs, "a write to the client");
  const left = () => writing.stop();
  if (options.clientGone?.aborted) left();
  else options.clientGone?.addEventListener("abort", left, { once: true });
  const send = async (text: string) => {
    if (clientGone) return;
    try {
      await writing.wait(writer.write(encoder.encode(text)));
    } catch {
      clientGone = true;
      // End the response for a client that is still there but stopped reading.
      writer.abort().catch(() => {});
    }
  };

  const finished = relay(upstream, options, send).finally(() => {
    options.clientGone?.removeEventListener("abort", left);
    writing.stop();
    if (!clientGone) return writer.close().catch(() => {});
  });
  return { body: readable, finished };
}

/** The relay writing to a reply log: the client (the first, and any that attach again) reads the log. */
function relayInto(upstream: ReadableStream<Uint8Array>, options: RelayOptions, log: ReplyLog) {
  log.begin();
  const finished = relay(upstream, options, async (text) => log.append(text)).then(
    (completed) => log.end(!completed),
    () => log.end(true),
  );
  return { body: log.read(), finished };
}

/**
 * Reads the upstream to its end, sending each read's events in the client's format, and completes
 * the turn. True if it did; false if the stream ended with the format's failure instead.
 */
async function relay(upstream: ReadableStream<Uint8Array>, options: RelayOptions, send: (text: string) => Promise<void>): Promise<boolean> {
  const { format } = options;
  const opening = format.start();
  if (opening) await send(opening);
  const reader = upstream.getReader();
  const reading = new IdleDeadline(options.idleTimeoutMs, "a read from the upstream");
  const parser = new SseParser();
  const reply = new ReplyBuilder();
  let sawDone = false;
  let failure: ApiError | undefined;

  // The events of one upstream read leave in one write: as soon as they arrived, and without a
  // write (and its wait for the client) per event when a provider sends thousands at once.
  const handle = async (events: ReturnType<SseParser["push"]>) => {
    let out = "";
    for (const event of events) {
      if (event.data === "[DONE]") {
        sawDone = true;
        continue;
      }
      if (event.data !== undefined) {
        let chunk: unknown;
        try {
          chunk = JSON.parse(event.data);
        } catch {
          failure = new UpstreamError(502, "The upstream model provider sent a malformed event.", { code: "upstream_bad_event" });
          break;
        }
        if (chunk && typeof chunk === "object" && "error" in chunk) {
          failure = new UpstreamError(502, "The upstream model provider failed mid-stream.", { code: "upstream_stream_error" });
          break;
        }
        reply.add(chunk as ChunkLike);
        out += format.event(event.raw, chunk as ChunkLike);
      } else {
        out += format.event(event.raw, {});
      }
    }
    if (out) await send(out);
  };

  let ended = false;
  try {
    while (!failure) {
      const { done, value } = await reading.wait(reader.read());
      if (done) {
        ended = true;
        break;
      }
      await handle(parser.push(value));
    }
    if (!failure) await handle(parser.flush());
  } catch (error) {
    failure =
      error instanceof DeadlineExceeded
        ? new UpstreamError(504, "The upstream model provider stalled mid-stream.", { code: "upstream_timeout" })
        : error instanceof EventTooLarge
          ? new UpstreamError(502, "The upstream model provider sent an event too large to relay.", { code: "upstream_bad_event" })
          : new UpstreamError(502, "The connection to the upstream model provider broke mid-stream.", { code: "upstream_stream_broken" });
  } finally {
    reading.stop();
    // Stopped early (an error event, a stall): stop the provider generating, and billing, too.
    if (!ended) reader.cancel().catch(() => {});
  }

  if (!failure && !sawDone && reply.finishReason === null) {
    failure = new UpstreamError(502, "The upstream model provider ended the stream before the reply was finished.", {
      code: "upstream_stream_truncated",
    });
  }

  if (!failure) {
    try {
      await options.complete(reply.message());
      await send(format.end());
    } catch (error) {
      failure = error instanceof ApiError ? error : new UpstreamError(502, "The reply could not be completed.");
    }
  }
  if (!failure) return true;
  options.onFailure(failure.code ?? failure.type);
  await send(format.fail(failure));
  return false;
}
