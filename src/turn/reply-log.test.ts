import { describe, expect, it } from "vitest";
import { ReplyLog } from "./reply-log";

/** Everything a reader of the log gets, to its end. */
const all = (stream: ReadableStream<Uint8Array>) => new Response(stream).text();

describe("ReplyLog", () => {
  it.each([
    { after: 0, expected: "data: a\n\nid: 1\n\ndata: b\n\nid: 2\n\ndata: c\n\nid: 3\n\n" },
    { after: 1, expected: "data: b\n\nid: 2\n\ndata: c\n\nid: 3\n\n" },
    { after: 3, expected: "" },
    { after: 99, expected: "" },
  ])("a reader from after piece $after gets the pieces after it, each followed by its id", async ({ after, expected }) => {
    const log = new ReplyLog();
    for (const piece of ["data: a\n\n", "data: b\n\n", "data: c\n\n"]) log.append(piece);
    log.end();
    expect(await all(log.read(after))).toBe(expected);
  });

  it("gives a reader each piece as it is appended, and ends when the log does", async () => {
    const log = new ReplyLog();
    const reader = log.read().getReader();
    const decode = async () => new TextDecoder().decode((await reader.read()).value);
    const next = decode();
    log.append("data: a\n\n");
    expect(await next).toBe("data: a\n\nid: 1\n\n");
    log.append("data: b\n\n");
    expect(await decode()).toBe("data: b\n\nid: 2\n\n");
    log.end();
    expect((await reader.read()).done).toBe(true);
  });

  it("never waits for a reader: one that stopped reading holds back no other", async () => {
    const log = new ReplyLog();
    log.read().getReader(); // a client that never reads
    const later = log.read();
    for (let i = 0; i < 1000; i++) log.append(`data: ${i}\n\n`);
    log.end();
    expect((await all(later)).match(/^data: /gm)).toHaveLength(1000);
  });

  it("says whether the request streamed into it: a client attaching waits to know", async () => {
    const streamed = new ReplyLog();
    const abandoned = new ReplyLog();
    streamed.begin();
    streamed.abandon(); // once begun, the reply stands
    abandoned.abandon();
    expect(await streamed.streaming).toBe(true);
    expect(await abandoned.streaming).toBe(false);
    streamed.append("data: x\n\n");
    streamed.end();
    expect(await all(streamed.read())).toBe("data: x\n\nid: 1\n\n");
  });

  it("takes an id past what was sent as all of it: nothing that comes after is skipped", async () => {
    const log = new ReplyLog();
    log.append("data: a\n\n");
    const reader = log.read(5);
    log.append("data: b\n\n");
    log.end();
    expect(await all(reader)).toBe("data: b\n\nid: 2\n\n");
  });

  it("says when and how the reply ended", async () => {
    const good = new ReplyLog();
    const bad = new ReplyLog();
    good.end();
    bad.end(true);
    await Promise.all([good.done, bad.done]);
    expect([good.failed, bad.failed]).toEqual([false, true]);
    expect(good.ended).toBeTypeOf("number");
  });
});
