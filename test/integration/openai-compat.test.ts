import type { ChatCompletionMessageParam, ChatCompletionTool } from "openai/resources/chat/completions";
import { afterAll, describe, expect, it } from "vitest";
import { directRedis, openaiFor, proxyFetch, uniqueId, upstreamRequests } from "../support/context";

const redis = directRedis();
afterAll(() => redis.quit());

const tools: ChatCompletionTool[] = [
  { type: "function", function: { name: "get_weather", parameters: { type: "object", properties: { query: { type: "string" } } } } },
];

describe("OpenAI compatibility", () => {
  it("lists the models a widget may use (ALLOWED_MODELS is set here)", async () => {
    const models = await openaiFor("anyone").models.list();
    expect(models.data.map((m) => m.id)).toEqual(["mock-small", "mock-large"]);
  });

  it("passes unknown and optional OpenAI fields through untouched", async () => {
    const user = uniqueId("passthrough");
    await proxyFetch("/v1/chat/completions", {
      method: "POST",
      user,
      body: JSON.stringify({
        model: "mock-large",
        temperature: 0.2,
        response_format: { type: "json_object" },
        some_future_field: { nested: [1, 2] },
        messages: [{ role: "user", content: `fields ${user}` }],
      }),
    });
    const [request] = await upstreamRequests(`fields ${user}`);
    expect(request!.body).toMatchObject({
      model: "mock-large",
      temperature: 0.2,
      response_format: { type: "json_object" },
      some_future_field: { nested: [1, 2] },
    });
  });

  it("stores an assistant's tool calls, so tool results continue the conversation validly", async () => {
    const user = uniqueId("tools");
    const client = openaiFor(user, { "X-Session-Id": "t" });
    const first = await client.chat.completions.create({
      model: "mock-small",
      tools,
      messages: [{ role: "user", content: `[mock:tool=get_weather] weather in Lisbon ${user}` }],
    });
    const assistant = first.choices[0]!.message;
    expect(first.choices[0]!.finish_reason).toBe("tool_calls");
    const call = assistant.tool_calls![0]!;
    expect(call.type === "function" && call.function.name).toBe("get_weather");

    // The client sends back only the tool result: it follows the last assistant message.
    const messages: ChatCompletionMessageParam[] = [{ role: "tool", tool_call_id: call.id, content: `sunny, 24C ${user}` }];
    const second = await client.chat.completions.create({ model: "mock-small", tools, messages });
    expect(second.choices[0]!.message.content).toBeTruthy();

    const [request] = await upstreamRequests(`sunny, 24C ${user}`);
    expect(request!.body.messages.map((m) => m.role)).toEqual(["system", "user", "assistant", "tool"]);
    expect(request!.body.messages[2]!.tool_calls).toEqual([{ id: call.id, type: "function", function: { name: "get_weather", arguments: expect.any(String) } }]);
    expect(await redis.llen(`session:{${user}}:{t}`)).toBe(4);
  });

  it("rebuilds streamed tool calls before storing them", async () => {
    const user = uniqueId("stream-tools");
    const client = openaiFor(user, { "X-Session-Id": "t" });
    const stream = await client.chat.completions.create({
      model: "mock-small",
      stream: true,
      tools,
      messages: [{ role: "user", content: `[mock:tool=get_weather] streamed ${user}` }],
    });
    for await (const _ of stream) {
      // drain
    }
    const stored = (await redis.lrange(`session:{${user}}:{t}`, 0, -1)).map((m) => JSON.parse(m));
    expect(stored[1]).toEqual({
      role: "assistant",
      content: null,
      tool_calls: [{ id: "call_mock1", type: "function", function: { name: "get_weather", arguments: JSON.stringify({ query: `streamed ${user}` }) } }],
    });
  });

  it("lets an API-key caller replace the base prompt with its own system message, which is not stored", async () => {
    const user = uniqueId("system");
    await openaiFor(user, { "X-Session-Id": "p" }).chat.completions.create({
      model: "mock-small",
      messages: [
        { role: "system", content: "You are a pirate." },
        { role: "user", content: `ahoy ${user}` },
      ],
    });
    const [request] = await upstreamRequests(`ahoy ${user}`);
    expect(request!.body.messages[0]).toEqual({ role: "system", content: "You are a pirate." });
    const stored = (await redis.lrange(`session:{${user}}:{p}`, 0, -1)).map((m) => JSON.parse(m).role);
    expect(stored).toEqual(["user", "assistant"]);
  });
});
