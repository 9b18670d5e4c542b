import { describe, expect, it } from "vitest";
import type { ResponsesRequest } from "./schema";
import { chatParameters } from "./translate-request";

const base: ResponsesRequest = { input: "hi" };

describe("chatParameters", () => {
  it.each([
    { name: "nothing set, nothing sent", request: {}, params: {} },
    { name: "nulls are unset", request: { temperature: null, top_p: null, max_output_tokens: null, tools: null }, params: {} },
    { name: "sampling and length", request: { temperature: 0.2, top_p: 0.5, max_output_tokens: 100 }, params: { temperature: 0.2, top_p: 0.5, max_completion_tokens: 100 } },
    {
      name: "function tools are wrapped; tool_choice by name too",
      request: { tools: [{ type: "function", name: "w", description: "weather", parameters: { type: "object" }, strict: true }], tool_choice: { type: "function" as const, name: "w" } },
      params: { tools: [{ type: "function", function: { name: "w", description: "weather", parameters: { type: "object" }, strict: true } }], tool_choice: { type: "function", function: { name: "w" } } },
    },
    { name: "tool_choice keywords pass as they are", request: { tool_choice: "required" as const }, params: { tool_choice: "required" } },
    { name: "text.format json_object", request: { text: { format: { type: "json_object" as const } } }, params: { response_format: { type: "json_object" } } },
    {
      name: "text.format json_schema",
      request: { text: { format: { type: "json_schema" as const, name: "a", schema: { type: "object" }, strict: true } } },
      params: { response_format: { type: "json_schema", json_schema: { name: "a", schema: { type: "object" }, strict: true } } },
    },
    { name: "text.format text is the default", request: { text: { format: { type: "text" as const } } }, params: {} },
    { name: "reasoning effort and verbosity", request: { reasoning: { effort: "low" }, text: { verbosity: "high" as const } }, params: { reasoning_effort: "low", verbosity: "high" } },
    { name: "top_logprobs turns logprobs on", request: { top_logprobs: 3 }, params: { logprobs: true, top_logprobs: 3 } },
  ])("$name", ({ request, params }) => {
    expect(chatParameters({ ...base, ...request })).toEqual(params);
  });

  it("refuses a built-in tool, naming it", () => {
    expect(() => chatParameters({ ...base, tools: [{ type: "function", name: "w" }, { type: "file_search" }] })).toThrow(expect.objectContaining({ status: 400, param: "tools[1].type" }));
  });
});
