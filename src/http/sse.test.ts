import { describe, expect, it } from "vitest";
import { EventTooLarge, SseParser } from "./sse";

const bytes = (s: string) => new TextEncoder().encode(s);

describe("SseParser", () => {
  it("yields each event as soon as its blank line arrives, holding back only the unfinished one", () => {
    const parser = new SseParser();
    expect(parser.push(bytes('data: {"a":1}\n\ndata: {"b"'))).toEqual([{ raw: 'data: {"a":1}', data: '{"a":1}' }]);
    expect(parser.push(bytes(":2}\n"))).toEqual([]);
    expect(parser.push(bytes("\n"))).toEqual([{ raw: 'data: {"b":2}', data: '{"b":2}' }]);
  });

  it("handles CRLF, even split across reads, comments and multi-line data", () => {
    const parser = new SseParser();
    const events = [...parser.push(bytes(": keep-alive\r")), ...parser.push(bytes("\n\r\ndata: x\r\ndata: y\r\n\r\n"))];
    expect(events).toEqual([
      { raw: ": keep-alive", data: undefined },
      { raw: "data: x\ndata: y", data: "x\ny" },
    ]);
  });

  it("decodes UTF-8 split in the middle of a character", () => {
    const parser = new SseParser();
    const all = bytes("data: 日本\n\n");
    const events = [...parser.push(all.slice(0, 8)), ...parser.push(all.slice(8))];
    expect(events).toEqual([{ raw: "data: 日本", data: "日本" }]);
  });

  it("flushes a last event that lacks its blank line", () => {
    const parser = new SseParser();
    expect(parser.push(bytes("data: [DONE]"))).toEqual([]);
    expect(parser.flush()).toEqual([{ raw: "data: [DONE]", data: "[DONE]" }]);
  });
});

describe("SseParser limits", () => {
  it("refuses an event that never ends instead of buffering it forever", () => {
    const parser = new SseParser();
    const megabyte = bytes(`data: ${"x".repeat(600_000)}`);
    parser.push(megabyte);
    expect(() => parser.push(megabyte)).toThrow(EventTooLarge);
  });
});
