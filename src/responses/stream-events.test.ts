import { describe, expect, it } from "vitest";
import { UpstreamError } from "../http/errors";
import { responseShell } from "./response-object";
import { ResponseEvents } from "./stream-events";

interface Event {
  type: string;
  sequence_number: number;
  item_id?: string;
  output_index?: number;
  item?: { id: string; type: string };
  response?: { status: string; output: Array<{ id: string; type: string }>; usage: unknown };
  [key: string]: unknown;
}

const shell = responseShell({ input: "hi" }, { id: "resp_1", model: "m", createdAt: 1, conversation: undefined });
const text = (content: string) => ({ choices: [{ index: 0, delta: { content } }] });
const call = (index: number, fields: object) => ({ choices: [{ index: 0, delta: { tool_calls: [{ index, ...fields }] } }] });
const finish = (reason: string) => ({ choices: [{ index: 0, delta: {}, finish_reason: reason }] });

function parse(sse: string): Event[] {
  return sse
    .split("\n\n")
    .filter(Boolean)
    .map((block) => {
      const [event, data] = block.split("\n");
      const parsed = JSON.parse(data!.slice("data: ".length)) as Event;
      expect(event).toBe(`event: ${parsed.type}`);
      return parsed;
    });
}

function run(chunks: object[], end: "end" | Error = "end"): { events: Event[]; writer: ResponseEvents } {
  const writer = new ResponseEvents(shell, "s_1");
  let sse = writer.start();
  for (const chunk of chunks) sse += writer.event("", chunk);
  sse += end === "end" ? writer.end() : writer.fail(new UpstreamError(502, end.message, { code: "upstream_stream_broken" }));
  return { events: parse(sse), writer };
}

describe("ResponseEvents", () => {
  it("frames a text reply in the order strict clients check, numbering every event", () => {
    const { events } = run([text("Hel"), text("lo"), finish("stop"), { choices: [], usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 } }]);
    expect(events.map((e) => e.type)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    const completed = events.at(-1)!.response!;
    expect(completed).toMatchObject({ status: "completed", usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 } });
    expect(completed.output).toEqual([expect.objectContaining({ type: "message", status: "completed", content: [expect.objectContaining({ text: "Hello" })] })]);
    const ids = new Set(events.flatMap((e) => [e.item_id, e.item?.id].filter(Boolean)));
    expect(ids).toEqual(new Set([completed.output[0]!.id]));
    expect(completed.output[0]!.id).toMatch(/^msg_[0-9a-f]{32}_s_1$/);
  });

  it("gives each tool call its own item, closing the text before it", () => {
    const { events, writer } = run([text("Let me check."), call(0, { id: "c1", function: { name: "w", arguments: "" } }), call(0, { function: { arguments: "{\"a\":" } }), call(0, { function: { arguments: "1}" } }), call(1, { id: "c2", function: { name: "w", arguments: "{}" } }), finish("tool_calls")]);
    const types = events.map((e) => e.type);
    expect(types.indexOf("response.output_item.done")).toBeLessThan(types.indexOf("response.function_call_arguments.delta"));
    const final = writer.final();
    expect(final.output.map((item) => item.type)).toEqual(["message", "function_call", "function_call"]);
    expect(final.output[1]).toMatchObject({ call_id: "c1", name: "w", arguments: "{\"a\":1}", status: "completed" });
    const done = events.filter((e) => e.type === "response.function_call_arguments.done");
    expect(done.map((e) => [e.output_index, e.arguments])).toEqual([[1, "{\"a\":1}"], [2, "{}"]]);
    const added = events.filter((e) => e.type === "response.output_item.added").map((e) => e.item!.id);
    expect(added).toEqual(final.output.map((item) => item.id));
  });

  it("ends a reply cut by max tokens as response.incomplete", () => {
    const { events } = run([text("Hi"), finish("length")]);
    expect(events.at(-1)).toMatchObject({ type: "response.incomplete", response: { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } } });
  });

  it("gives an empty reply one empty message, as a non-streamed one has", () => {
    const { events } = run([finish("stop")]);
    expect(events.map((e) => e.type).slice(2)).toEqual(["response.output_item.added", "response.content_part.added", "response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
  });

  it("ends a failed stream with response.failed, listing only finished items", () => {
    const { events } = run([text("Hel")], new Error("The connection broke."));
    expect(events.at(-1)).toMatchObject({ type: "response.failed", response: { status: "failed", output: [], error: { code: "upstream_stream_broken", message: "The connection broke." } } });
  });

  it("keeps the status an item was closed with when the reply ends incomplete", () => {
    const { events } = run([text("Checking."), call(0, { id: "c1", function: { name: "w", arguments: "{}" } }), finish("length")]);
    const messageDone = events.find((e) => e.type === "response.output_item.done" && e.item?.type === "message") as Event & { item: { status: string } };
    expect(messageDone.item.status).toBe("completed");
    expect(events.at(-1)!.response!.output.map((item) => (item as { status?: string }).status)).toEqual(["completed", "incomplete"]);
  });

  it("hears a call's id and name when they come after its first delta", () => {
    const { writer } = run([call(0, { function: { arguments: "{" } }), call(0, { id: "c9", function: { name: "w", arguments: "}" } }), finish("tool_calls")]);
    expect(writer.final().output[0]).toMatchObject({ call_id: "c9", name: "w", arguments: "{}" });
  });

  it("numbers a failure with no gap when the save fails after the reply was finished", () => {
    const writer = new ResponseEvents(shell, "s_1");
    let sse = writer.start() + writer.event("", finish("stop"));
    writer.final(); // what the turn stores, before the save that fails
    sse += writer.fail(new UpstreamError(503, "Session memory is unavailable.", { code: "memory_unavailable" }));
    const events = parse(sse);
    expect(events.map((e) => e.sequence_number)).toEqual(events.map((_, i) => i));
    expect(events.at(-1)!.type).toBe("response.failed");
  });
});
