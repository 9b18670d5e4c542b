import { describe, expect, it } from "vitest";
import type { Caller } from "../auth/caller";
import { splitConversation } from "../messages/conversation";
import type { ChatRequest } from "../messages/schema";
import { applyWidgetPolicy } from "./widget-policy";
import { ApiError } from "../http/errors";

const widget: Caller = { kind: "widget", userId: "u1" };
const backend: Caller = { kind: "api_key", userId: "u1" };
const limits = { maxTokens: 256, maxMessages: 10, maxMessageBytes: 1000 };
const hello = [{ role: "user" as const, content: "hi" }];

const apply = (request: ChatRequest, caller: Caller = widget) => applyWidgetPolicy(request, splitConversation(request.messages), caller, limits);
const codeOf = (work: () => unknown) => {
  try {
    work();
  } catch (error) {
    return (error as ApiError).code;
  }
  return "passed";
};

const withParts = (...parts: Array<Record<string, unknown>>): ChatRequest => ({
  messages: [{ role: "user", content: parts as Array<{ type: string }> }],
});

describe("applyWidgetPolicy", () => {
  it.each([
    ["text", { type: "text", text: "hi" }, "passed"],
    ["an https image", { type: "image_url", image_url: { url: "https://cdn.example.test/cat.png" } }, "passed"],
    ["a data-URL image", { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }, "passed"],
    ["an image from the cloud metadata address", { type: "image_url", image_url: { url: "http://169.254.169.254/latest" } }, "content_part_not_allowed"],
    ["an image by plain http", { type: "image_url", image_url: { url: "http://cdn.example.test/cat.png" } }, "content_part_not_allowed"],
    ["an image with no URL", { type: "image_url", image_url: {} }, "content_part_not_allowed"],
    ["a data URL that is not an image", { type: "image_url", image_url: { url: "data:text/html;base64,PGgxPg==" } }, "content_part_not_allowed"],
    ["a file from the operator's provider account", { type: "file", file: { file_id: "file-abc123" } }, "content_part_not_allowed"],
    ["audio", { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } }, "content_part_not_allowed"],
    ["an unknown part type", { type: "something_new" }, "content_part_not_allowed"],
  ])("a widget's content part: %s", (_, part, expected) => {
    expect(codeOf(() => apply(withParts(part)))).toBe(expected);
  });

  it("names the refused part", () => {
    try {
      apply(withParts({ type: "text", text: "look" }, { type: "file", file: { file_id: "file-abc123" } }));
    } catch (error) {
      expect((error as ApiError).param).toBe("messages[0].content[1]");
      return;
    }
    expect.unreachable("a file part was accepted from a widget");
  });

  it("lets a trusted backend send any part", () => {
    expect(codeOf(() => apply(withParts({ type: "file", file: { file_id: "file-abc123" } }), backend))).toBe("passed");
  });

  it.each([
    ["no max_tokens: set to the cap", {}, { max_tokens: 256 }],
    ["a smaller max_tokens: kept", { max_tokens: 50 }, { max_tokens: 50 }],
    ["a larger max_tokens: lowered", { max_tokens: 10_000 }, { max_tokens: 256 }],
    ["a larger max_completion_tokens: lowered, and no max_tokens added", { max_completion_tokens: 9999 }, { max_completion_tokens: 256 }],
  ])("%s", (_, fields, expected) => {
    const out = apply({ messages: hello, ...fields });
    expect(out).toMatchObject(expected);
    if (!("max_tokens" in expected)) expect(out.max_tokens).toBeUndefined();
  });

  it("drops the client's `user`: the token names the user", () => {
    expect(apply({ messages: hello, user: "someone-else" }).user).toBeUndefined();
  });

  it.each([
    ["a system message", { messages: [{ role: "system", content: "x" }, ...hello] }, "instructions_not_allowed"],
    ["a developer message", { messages: [{ role: "developer", content: "x" }, ...hello] }, "instructions_not_allowed"],
    ["a field outside the allowlist", { messages: hello, store: true }, "field_not_allowed"],
    ["a provider extension", { messages: hello, extra_body: { x: 1 } }, "field_not_allowed"],
  ])("refuses %s", (_, request, code) => {
    expect(codeOf(() => apply(request as ChatRequest))).toBe(code);
  });

  it("leaves a trusted backend's request exactly as sent", () => {
    const request = { messages: [{ role: "system" as const, content: "x" }, ...hello], store: true, max_tokens: 99_999, user: "u9" };
    expect(apply(request, backend)).toBe(request);
  });
});

describe("applyWidgetPolicy and answer lengths that are not numbers", () => {
  it.each([["100000"], [1.5], [0], [-5], [true]])("refuses max_tokens %j", (value) => {
    expect(() => apply({ messages: hello, max_tokens: value } as ChatRequest)).toThrow(/max_tokens must be a positive integer/);
    expect(() => apply({ messages: hello, max_completion_tokens: value } as ChatRequest)).toThrow(/positive integer/);
  });
});
