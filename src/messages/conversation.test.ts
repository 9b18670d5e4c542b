import { describe, expect, it } from "vitest";
import { splitConversation } from "./conversation";
import type { ChatMessage } from "./schema";

const sys: ChatMessage = { role: "system", content: "be brief" };
const u = (c: string): ChatMessage => ({ role: "user", content: c });
const a = (c: string): ChatMessage => ({ role: "assistant", content: c });

describe("splitConversation", () => {
  it.each([
    { name: "a lone new message (SDK with X-Session-Id)", messages: [u("hi")], earlier: [], newTurn: [u("hi")] },
    {
      name: "a resent conversation (useChat): only what follows the last assistant message is new",
      messages: [u("1"), a("1"), u("2"), a("2"), u("3")],
      earlier: [u("1"), a("1"), u("2"), a("2")],
      newTurn: [u("3")],
    },
    {
      name: "several new user messages",
      messages: [u("1"), a("1"), u("2"), u("3")],
      earlier: [u("1"), a("1")],
      newTurn: [u("2"), u("3")],
    },
    {
      name: "tool results answering the last assistant message",
      messages: [
        u("weather?"),
        { role: "assistant", content: null, tool_calls: [{ id: "c1", type: "function", function: { name: "w", arguments: "{}" } }] },
        { role: "tool", tool_call_id: "c1", content: "sunny" },
      ],
      earlier: 2,
      newTurn: [{ role: "tool", tool_call_id: "c1", content: "sunny" }],
    },
  ])("$name", ({ messages, earlier, newTurn }) => {
    const split = splitConversation(messages as ChatMessage[]);
    if (typeof earlier === "number") expect(split.earlier).toHaveLength(earlier);
    else expect(split.earlier).toEqual(earlier);
    expect(split.newTurn).toEqual(newTurn);
    expect(split.instructions).toEqual([]);
  });

  it("takes system and developer messages out wherever they stand", () => {
    const dev: ChatMessage = { role: "developer", content: "json only" };
    const split = splitConversation([sys, u("1"), a("1"), dev, u("2")]);
    expect(split.instructions).toEqual([sys, dev]);
    expect(split.earlier).toEqual([u("1"), a("1")]);
    expect(split.newTurn).toEqual([u("2")]);
  });

  it("refuses a conversation that ends with the assistant", () => {
    expect(() => splitConversation([u("1"), a("1")])).toThrow(/new user message/);
  });
});
