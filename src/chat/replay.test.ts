import { describe, expect, it } from "vitest";
import { completionOf, streamOf } from "./replay";
import type { AssistantMessage } from "../messages/reply";

const events = (sse: string) => sse.split("\n\n").filter(Boolean).map((event) => event.slice("data: ".length));

describe("a stored reply answered again", () => {
  it.each<[string, AssistantMessage, string, Record<string, unknown>]>([
    ["text", { role: "assistant", content: "hello" }, "stop", { content: "hello" }],
    [
      "tool calls",
      { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
      "tool_calls",
      { tool_calls: [{ index: 0, id: "c1", type: "function", function: { name: "f", arguments: "{}" } }] },
    ],
    ["a legacy function call", { role: "assistant", content: null, function_call: { name: "f", arguments: "{}" } }, "function_call", { function_call: { name: "f", arguments: "{}" } }],
  ])("%s, whole and streamed", (_, reply, finish, delta) => {
    const completion = completionOf(reply, "m");
    expect(completion.choices[0]).toMatchObject({ message: reply, finish_reason: finish });
    const [first, last, done] = events(streamOf(reply, "m"));
    expect(JSON.parse(first!).choices[0].delta).toMatchObject({ role: "assistant", ...delta });
    expect(JSON.parse(last!).choices[0].finish_reason).toBe(finish);
    expect(done).toBe("[DONE]");
  });

  it("ends with the usage chunk a client asked for, and only then", () => {
    const reply: AssistantMessage = { role: "assistant", content: "hello" };
    const asked = events(streamOf(reply, "m", { usage: true }));
    expect(asked).toHaveLength(4);
    expect(JSON.parse(asked[2]!)).toMatchObject({ choices: [], usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 } });
    expect(asked[3]).toBe("[DONE]");
    expect(events(streamOf(reply, "m")).some((event) => event.includes('"usage"'))).toBe(false);
    expect(completionOf(reply, "m").usage).toEqual({ prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 });
  });
});
