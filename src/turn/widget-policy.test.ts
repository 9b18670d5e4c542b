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
    ["an https image at the metadata address", { type: "image_url", image_url: { url: "https://169.254.169.254/latest" } }, "content_part_not_allowed"],
    ["an https image at the metadata address as one number", { type: "image_url", image_url: { url: "https://2852039166/latest" } }, "content_part_not_allowed"],
    ["an https image at the metadata address in hex", { type: "image_url", image_url: { url: "https://0xa9.0xfe.0xa9.0xfe/" } }, "content_part_not_allowed"],
    ["an https image at the metadata address, IPv4-mapped", { type: "image_url", image_url: { url: "https://[::ffff:169.254.169.254]/" } }, "content_part_not_allowed"],
    ["an https image at an IPv6 link-local address", { type: "image_url", image_url: { url: "https://[fe80::1]/cat.png" } }, "content_part_not_allowed"],
    ["an https image at AWS's IPv6 metadata address", { type: "image_url", image_url: { url: "https://[fd00:ec2::254]/" } }, "content_part_not_allowed"],
    ["an https image at Google's metadata name", { type: "image_url", image_url: { url: "https://metadata.google.internal./computeMetadata/v1/" } }, "content_part_not_allowed"],
    ["a text part that also names a file", { type: "text", text: "hi", file: { file_id: "file-abc123" } }, "field_not_allowed"],
    ["a text part that also carries an image", { type: "text", text: "hi", image_url: { url: "https://cdn.example.test/cat.png" } }, "field_not_allowed"],
    ["an image with a field of its own", { type: "image_url", image_url: { url: "https://cdn.example.test/cat.png", file_id: "file-abc123" } }, "field_not_allowed"],
    ["an image with its detail", { type: "image_url", image_url: { url: "https://cdn.example.test/cat.png", detail: "low" } }, "passed"],
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
    ["a message's attachments", { messages: [{ role: "user", content: "hi", attachments: [{ file_id: "file-abc123" }] }] }, "field_not_allowed"],
    ["a message's cache_control", { messages: [{ role: "user", content: "hi", cache_control: { type: "ephemeral" } }] }, "field_not_allowed"],
    ["a tool call's extra field", { messages: [...hello, { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" }, x: 1 }] }, { role: "tool", tool_call_id: "c1", content: "r" }] }, "field_not_allowed"],
    ["a stream_options extension", { messages: hello, stream: true, stream_options: { include_usage: true, include_obfuscation: false } }, "field_not_allowed"],
  ])("refuses %s", (_, request, code) => {
    expect(codeOf(() => apply(request as ChatRequest))).toBe(code);
  });

  it.each([
    ["stream_options with include_usage", { messages: hello, stream: true, stream_options: { include_usage: true } }],
    ["an assistant message as the SDK returned it", { messages: [...hello, { role: "assistant", content: "a", refusal: null }, { role: "user", content: "b" }] }],
  ])("accepts %s", (_, request) => {
    expect(codeOf(() => apply(request as ChatRequest))).toBe("passed");
  });

  it("names the refused field inside a message", () => {
    try {
      apply({ messages: [{ role: "user", content: [{ type: "text", text: "hi", file: { file_id: "f" } }] }] } as ChatRequest);
    } catch (error) {
      expect((error as ApiError).param).toBe("messages[0].content[0].file");
      return;
    }
    expect.unreachable("a text part with a file was accepted from a widget");
  });

  it("lets a trusted backend send fields of its own inside messages", () => {
    const request = { messages: [{ role: "user", content: [{ type: "text", text: "hi", cache_control: { type: "ephemeral" } }], attachments: [] }] } as ChatRequest;
    expect(apply(request, backend)).toBe(request);
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
