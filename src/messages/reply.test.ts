import { describe, expect, it } from "vitest";
import { ReplyBuilder, replyFromCompletion } from "./reply";

describe("ReplyBuilder", () => {
  it("joins streamed content and remembers why it finished", () => {
    const reply = new ReplyBuilder();
    reply.add({ choices: [{ index: 0, delta: { role: "assistant", content: "" }, finish_reason: null }] } as never);
    reply.add({ choices: [{ index: 0, delta: { content: "Hel" } }] });
    reply.add({ choices: [{ index: 0, delta: { content: "lo" } }] });
    reply.add({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
    reply.add({ choices: [] }); // a trailing usage chunk
    expect(reply.message()).toEqual({ role: "assistant", content: "Hello" });
    expect(reply.finishReason).toBe("stop");
  });

  it("assembles tool calls from their fragments, in index order", () => {
    const reply = new ReplyBuilder();
    reply.add({ choices: [{ delta: { tool_calls: [{ index: 1, id: "b", type: "function", function: { name: "two", arguments: "" } }] } }] });
    reply.add({ choices: [{ delta: { tool_calls: [{ index: 0, id: "a", type: "function", function: { name: "one", arguments: '{"x"' } }] } }] });
    reply.add({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: ":1}" } }] } }] });
    reply.add({ choices: [{ delta: {}, finish_reason: "tool_calls" }] });
    expect(reply.message()).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "a", type: "function", function: { name: "one", arguments: '{"x":1}' } },
        { id: "b", type: "function", function: { name: "two", arguments: "" } },
      ],
    });
  });
});

describe("ReplyBuilder, legacy function calling", () => {
  it("assembles a function_call from its fragments", () => {
    const reply = new ReplyBuilder();
    reply.add({ choices: [{ delta: { role: "assistant", content: null, function_call: { name: "lookup", arguments: "" } } }] } as never);
    reply.add({ choices: [{ delta: { function_call: { arguments: '{"q":' } } }] });
    reply.add({ choices: [{ delta: { function_call: { arguments: '"x"}' } } }] });
    reply.add({ choices: [{ delta: {}, finish_reason: "function_call" }] });
    expect(reply.message()).toEqual({ role: "assistant", content: null, function_call: { name: "lookup", arguments: '{"q":"x"}' } });
  });
});

describe("replyFromCompletion", () => {
  it("keeps a legacy function_call", () => {
    expect(replyFromCompletion({ choices: [{ message: { role: "assistant", content: null, function_call: { name: "lookup", arguments: "{}" } } }] })).toEqual({
      role: "assistant",
      content: null,
      function_call: { name: "lookup", arguments: "{}" },
    });
  });
  it("takes choice 0's message", () => {
    expect(replyFromCompletion({ choices: [{ index: 0, message: { role: "assistant", content: "hi" } }] })).toEqual({
      role: "assistant",
      content: "hi",
    });
  });
  it("is undefined for a body without one", () => {
    expect(replyFromCompletion({ error: "x" })).toBeUndefined();
    expect(replyFromCompletion(null)).toBeUndefined();
  });
});
