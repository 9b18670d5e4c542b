import { performance } from "node:perf_hooks";
import "../src/http/zod-messages";
import { splitConversation } from "../src/chat/conversation";
import { buildSystemMessage } from "../src/turn/prompt";
import { ReplyBuilder } from "../src/chat/reply";
import type { ChatMessage } from "../src/chat/schema";
import { SseParser } from "../src/chat/sse";
import { slideWindow } from "../src/turn/window";
import { parseChatRequest } from "../src/chat/validate";
import { toStoredMessage } from "../src/memory/stored-message";

const limits = { maxMessages: 256, maxMessageBytes: 65_536 };
const sentence = "What should I pack for a week in Lisbon in spring, and which neighbourhoods are best for walking? ";

/** A steady-state turn: a full window of stored history, one new message, a 60-chunk streamed reply. */
function fixture() {
  const history: ChatMessage[] = Array.from({ length: 19 }, (_, i) => ({ role: i % 2 ? "assistant" : "user", content: sentence.repeat(3) }));
  const requestBody = JSON.stringify({ model: "gpt-4o-mini", stream: true, messages: [{ role: "user", content: sentence }] });
  const stored = history.map((m) => JSON.stringify(m));
  const chunks = Array.from({ length: 60 }, (_, i) =>
    `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 1, model: "m", choices: [{ index: 0, delta: { content: `word${i} ` }, finish_reason: i === 59 ? "stop" : null }] })}\n\n`,
  );
  const sse = new TextEncoder().encode(`${chunks.join("")}data: [DONE]\n\n`);
  return { requestBody, stored, sse };
}

function turn({ requestBody, stored, sse }: ReturnType<typeof fixture>): number {
  const request = parseChatRequest(JSON.parse(requestBody), limits);
  const conversation = splitConversation(request.messages);
  const history = stored.map((m) => JSON.parse(m) as ChatMessage);
  const system = buildSystemMessage({ instructions: "You are a helpful assistant.", role: "system", summary: null });
  const window = slideWindow({ system, history, newTurn: conversation.newTurn, maxMessages: 20, maxTokens: 8000 });
  const upstreamBody = JSON.stringify({ ...request, messages: window.messages });

  const parser = new SseParser();
  const reply = new ReplyBuilder();
  // Upstream reads arrive in pieces of a few hundred bytes.
  for (let offset = 0; offset < sse.length; offset += 512) {
    for (const event of parser.push(sse.subarray(offset, offset + 512))) {
      if (event.data && event.data !== "[DONE]") reply.add(JSON.parse(event.data));
    }
  }
  const turnToSave = [...conversation.newTurn, reply.message()].map(toStoredMessage).map((m) => JSON.stringify(m));
  return upstreamBody.length + turnToSave.length;
}

/** Mean CPU microseconds of the worker's own per-turn work (no I/O), after warm-up. */
export function measureCpu(iterations = 3000): { mean: number; note: string } {
  const data = fixture();
  for (let i = 0; i < 500; i++) turn(data);
  const started = performance.now();
  for (let i = 0; i < iterations; i++) turn(data);
  const mean = ((performance.now() - started) * 1000) / iterations;
  return { mean: Number(mean.toFixed(1)), note: "parse + window over 19 stored messages + relay of a 60-chunk stream + save serialisation, V8 in Node" };
}
