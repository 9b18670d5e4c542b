import { createOpenAI } from "@ai-sdk/openai";
import { ChatOpenAI } from "@langchain/openai";
import { Agent, OpenAIProvider, Runner, tool } from "@openai/agents";
import { generateText, streamText } from "ai";
import { afterAll, describe, expect, it } from "vitest";
import * as z from "zod";
import { directRedis, openaiFor, stack, uniqueId, upstreamRequests } from "../support/context";

const redis = directRedis();
afterAll(() => redis.quit());

/** The Vercel AI SDK's provider, pointed at the proxy as its README shows. */
function aiSdkFor(user: string, headers: Record<string, string> = {}) {
  const { url, apiKey } = stack();
  return createOpenAI({ baseURL: `${url}/v1`, apiKey, headers: { "X-User-Id": user, ...headers } });
}

/** The OpenAI Agents SDK's runner on the proxy (tracing off: it would export to OpenAI). */
function agentsRunnerFor(user: string) {
  return new Runner({ modelProvider: new OpenAIProvider({ openAIClient: openaiFor(user), useResponses: true }), tracingDisabled: true });
}

describe("Responses API through the clients that default to it", () => {
  it("Vercel AI SDK: openai(model) with generateText, then a follow-up that references the reply", async () => {
    const user = uniqueId("ai-sdk-responses");
    const openai = aiSdkFor(user);
    const first = await generateText({ model: openai("mock-small"), prompt: `my name is Ada ${user}` });
    expect(first.text).toContain(`my name is Ada ${user}`);
    const [request] = await upstreamRequests(`my name is Ada ${user}`);
    expect(request).toBeDefined();

    // The AI SDK sends its earlier reply back as an item_reference: the proxy finds it in the session.
    const second = await generateText({ model: openai("mock-small"), messages: [{ role: "user", content: `my name is Ada ${user}` }, ...first.response.messages, { role: "user", content: `again ${user}` }] });
    expect(second.text).toContain("I can see 2 earlier messages");
  });

  it("Vercel AI SDK: openai(model) with streamText, chained by previousResponseId", async () => {
    const user = uniqueId("ai-sdk-stream");
    const openai = aiSdkFor(user);
    const first = streamText({ model: openai("mock-small"), prompt: `stream to me ${user}` });
    expect(await first.text).toContain(`stream to me ${user}`);
    const responseId = (await first.providerMetadata)?.openai?.responseId;
    expect(responseId).toMatch(/^resp_/);
    const second = streamText({ model: openai("mock-small"), prompt: `more ${user}`, providerOptions: { openai: { previousResponseId: String(responseId) } } });
    expect(await second.text).toContain("I can see 2 earlier messages");
    expect((await second.finishReason)).toBe("stop");
  });

  it("Vercel AI SDK: openai.chat(model) with generateText and streamText (Chat Completions)", async () => {
    const user = uniqueId("ai-sdk-chat");
    const openai = aiSdkFor(user, { "X-Session-Id": "chat" });
    const first = await generateText({ model: openai.chat("mock-small"), prompt: `chat with me ${user}` });
    expect(first.text).toContain(`chat with me ${user}`);
    const second = streamText({ model: openai.chat("mock-small"), prompt: `and stream ${user}` });
    expect(await second.text).toContain("I can see 2 earlier messages");
  });

  it("OpenAI Agents SDK: two runs chained by previousResponseId, with a tool call in between", async () => {
    const user = uniqueId("agents-previous");
    const runner = agentsRunnerFor(user);
    const getWeather = tool({ name: "get_weather", description: "Weather for a city", parameters: z.object({ query: z.string() }), execute: async ({ query }) => `sunny in ${query}` });
    const agent = new Agent({ name: "Concierge", instructions: "You help travellers.", model: "mock-small", tools: [getWeather] });

    const first = await runner.run(agent, `[mock:tool=get_weather] weather in Lisbon ${user}`);
    expect(String(first.finalOutput)).toContain("You said");
    expect(first.lastResponseId).toMatch(/^resp_/);
    const second = await runner.run(agent, `what did you find? ${user}`, { previousResponseId: first.lastResponseId });
    // The first run was user, tool call, tool output, answer: four earlier messages, all from memory.
    expect(String(second.finalOutput)).toContain("I can see 4 earlier messages");
  });

  it("OpenAI Agents SDK: two runs in one conversation (conversationId)", async () => {
    const user = uniqueId("agents-conversation");
    const conversation = await openaiFor(user).conversations.create({});
    const runner = agentsRunnerFor(user);
    const agent = new Agent({ name: "Concierge", instructions: "You help travellers.", model: "mock-small" });
    const first = await runner.run(agent, `I live in Porto ${user}`, { conversationId: conversation.id });
    expect(String(first.finalOutput)).toContain("I can see 0 earlier messages");
    const second = await runner.run(agent, `where do I live? ${user}`, { conversationId: conversation.id });
    expect(String(second.finalOutput)).toContain("I can see 2 earlier messages");
    const items = await openaiFor(user).conversations.items.list(conversation.id);
    expect(items.data).toHaveLength(4);
  });

  it("LangChain: ChatOpenAI with useResponsesApi: true, invoke and stream", async () => {
    const user = uniqueId("langchain");
    const { url, apiKey } = stack();
    const model = new ChatOpenAI({ model: "mock-small", useResponsesApi: true, apiKey, maxRetries: 0, configuration: { baseURL: `${url}/v1`, defaultHeaders: { "X-User-Id": user, "X-Session-Id": "lc" } } });
    const reply = await model.invoke(`hello LangChain ${user}`);
    expect(reply.text).toContain(`hello LangChain ${user}`);
    let streamed = "";
    for await (const chunk of await model.stream(`stream please ${user}`)) streamed += chunk.text;
    expect(streamed).toContain("I can see 2 earlier messages");
  });
});
