/** An event grew past what any chat completion chunk needs: a broken or hostile upstream. */
export class EventTooLarge extends Error {
  override name = "EventTooLarge";
}

/** Far beyond any real chunk; the bound keeps a bad upstream from growing the buffer forever. */
const MAX_EVENT_CHARS = 1_000_000;

/** One server-sent event: its text as received (to forward untouched) and its data, if any. */
export interface SseEvent {
  raw: string;
  data: string | undefined;
}

/**
 * Splits a byte stream of server-sent events into whole events as they complete, so each can be
 * forwarded the moment its last line arrives. Only an unfinished event is ever held back.
 */
export class SseParser {
  private readonly decoder = new TextDecoder();
  private buffer = "";
  private pendingCarriageReturn = false;

  push(bytes: Uint8Array): SseEvent[] {
    return this.take(this.decoder.decode(bytes, { stream: true }));
  }

  /** Whatever remains when the stream ends without a final blank line. */
  flush(): SseEvent[] {
    const events = this.take(this.decoder.decode());
    const rest = this.buffer.trim() ? parseEvent(this.buffer) : undefined;
    this.buffer = "";
    return rest ? [...events, rest] : events;
  }

  private take(text: string): SseEvent[] {
    // A CRLF may be split across two reads: hold a trailing CR until the next one.
    let chunk = (this.pendingCarriageReturn ? "\r" : "") + text;
    this.pendingCarriageReturn = chunk.endsWith("\r");
    if (this.pendingCarriageReturn) chunk = chunk.slice(0, -1);
    this.buffer += chunk.includes("\r") ? chunk.replace(/\r\n?/g, "\n") : chunk;

    const events: SseEvent[] = [];
    // One cut at the end, not one per event: a read holding thousands of events stays linear.
    let start = 0;
    let boundary: number;
    while ((boundary = this.buffer.indexOf("\n\n", start)) !== -1) {
      if (boundary > start) events.push(parseEvent(this.buffer.slice(start, boundary)));
      start = boundary + 2;
    }
    if (start > 0) this.buffer = this.buffer.slice(start);
    if (this.buffer.length > MAX_EVENT_CHARS) throw new EventTooLarge();
    return events;
  }
}

function parseEvent(block: string): SseEvent {
  let data: string[] | undefined;
  for (const line of block.split("\n")) {
    if (line.startsWith("data:")) {
      (data ??= []).push(line.slice(line.startsWith("data: ") ? 6 : 5));
    }
  }
  return { raw: block, data: data?.join("\n") };
}
