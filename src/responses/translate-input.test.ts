import { describe, expect, it } from "vitest";
import { ApiError } from "../http/errors";
import { translateInput } from "./translate-input";

const ours = "msg_0123456789abcdef0123456789abcdef_s_1";

describe("translateInput", () => {
  it.each([
    { name: "a string is one user message", input: "hi", instructions: undefined, messages: [{ role: "user", content: "hi" }] },
    { name: "instructions come first, as a system message", input: "hi", instructions: "Be brief.", messages: [{ role: "system", content: "Be brief." }, { role: "user", content: "hi" }] },
    {
      name: "input_text parts become text parts; images keep their URL and detail",
      input: [{ role: "user", content: [{ type: "input_text", text: "what is this?" }, { type: "input_image", image_url: "https://x.test/a.png", detail: "low" }] }],
      instructions: undefined,
      messages: [{ role: "user", content: [{ type: "text", text: "what is this?" }, { type: "image_url", image_url: { url: "https://x.test/a.png", detail: "low" } }] }],
    },
    {
      name: "an assistant's output_text is its content; developer text stays developer",
      input: [{ role: "developer", content: [{ type: "input_text", text: "rules" }] }, { type: "message", role: "assistant", content: [{ type: "output_text", text: "Hello" }] }, { role: "user", content: "hi" }],
      instructions: undefined,
      messages: [{ role: "developer", content: "rules" }, { role: "assistant", content: "Hello" }, { role: "user", content: "hi" }],
    },
    {
      name: "text then function calls are one assistant message; outputs are tool messages",
      input: [
        { role: "user", content: "weather?" },
        { role: "assistant", content: "Checking." },
        { type: "function_call", call_id: "c1", name: "w", arguments: "{}" },
        { type: "function_call", call_id: "c2", name: "w", arguments: "{\"x\":1}" },
        { type: "function_call_output", call_id: "c1", output: "sunny" },
        { type: "function_call_output", call_id: "c2", output: [{ type: "input_text", text: "rain" }] },
      ],
      instructions: undefined,
      messages: [
        { role: "user", content: "weather?" },
        {
          role: "assistant",
          content: "Checking.",
          tool_calls: [
            { id: "c1", type: "function", function: { name: "w", arguments: "{}" } },
            { id: "c2", type: "function", function: { name: "w", arguments: "{\"x\":1}" } },
          ],
        },
        { role: "tool", tool_call_id: "c1", content: "sunny" },
        { role: "tool", tool_call_id: "c2", content: "rain" },
      ],
    },
    { name: "reasoning items are dropped", input: [{ type: "reasoning", id: "rs_1", summary: [] }, { role: "user", content: "hi" }], instructions: undefined, messages: [{ role: "user", content: "hi" }] },
  ])("$name", ({ input, instructions, messages }) => {
    expect(translateInput(input, instructions).messages).toEqual(messages);
  });

  it("turns a reference to one of our items into a placeholder assistant message, and names its session", () => {
    const translated = translateInput([{ role: "user", content: "1" }, { type: "item_reference", id: ours }, { role: "user", content: "2" }], undefined);
    expect(translated.referencedSession).toBe("s_1");
    expect(translated.messages).toHaveLength(3);
    expect(translated.references.has(translated.messages[1]!)).toBe(true);
  });

  it("learns the session from our ids on resent items", () => {
    const call = { type: "function_call", id: "fc_0123456789abcdef0123456789abcdef_s_2", call_id: "c", name: "w", arguments: "{}" };
    expect(translateInput([{ role: "user", content: "x" }, call], undefined).referencedSession).toBe("s_2");
    expect(translateInput([{ role: "assistant", id: ours, content: "x" }], undefined).referencedSession).toBe("s_1");
    expect(translateInput([{ role: "assistant", id: "msg_abc", content: "x" }], undefined).referencedSession).toBeUndefined();
  });

  it.each([
    { name: "an item type nobody translates", input: [{ type: "computer_call_output", call_id: "x" }], param: "input[0].type" },
    { name: "a reference to an item that is not ours", input: [{ type: "item_reference", id: "msg_abc" }], param: "input[0].id" },
    { name: "an image by file id", input: [{ role: "user", content: [{ type: "input_image", file_id: "file_1" }] }], param: "input[0].content[0]" },
    { name: "a part type nobody translates", input: [{ role: "user", content: [{ type: "input_video", url: "x" }] }], param: "input[0].content[0].type" },
    { name: "a function call without its call_id", input: [{ type: "function_call", name: "w", arguments: "{}" }], param: "input[0].call_id" },
    { name: "a message with an unknown role", input: [{ role: "robot", content: "x" }], param: "input[0].role" },
    { name: "an image in an instruction", input: [{ role: "system", content: [{ type: "input_image", image_url: "https://x.test/a.png" }] }], param: "input[0].content[0]" },
  ])("refuses $name, naming where", ({ input, param }) => {
    const error = (() => {
      try {
        translateInput(input, undefined);
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ status: 400, param });
  });
});
