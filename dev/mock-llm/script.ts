/**
 * What the mock model will do for a request, decided only by the request, so every run of a test
 * sees the same thing. Directives in the last user message steer it: `[mock:status=500]`,
 * `[mock:status=429]`, `[mock:drop-after=3]`, `[mock:stall-after=2]`, `[mock:error-event-after=2]`,
 * `[mock:delay=500]`, `[mock:words=200]`, `[mock:pace=20]` (ms between streamed chunks), `[mock:tool=get_weather]` (with `[mock:tool-calls=3000]`, that
 * many calls of it). The proxy's own summarisation calls get a summary (summaryText).
 */
export interface Script {
  status: number;
  delayMs: number | undefined;
  /** Streaming: ms between chunks, instead of the server's own. */
  paceMs?: number;
  /** Streaming: chunks of content to send, then the ending below. */
  pieces: string[];
  toolCall: { name: string; arguments: string } | undefined;
  /** How many calls of `toolCall` the reply makes. */
  toolCalls: number;
  ending: "finish" | "drop" | "stall" | "error-event";
  /** For drop/stall/error-event: after how many content pieces. */
  endAfter: number;
}

interface MessageLike {
  role?: unknown;
  content?: unknown;
}

function textOf(message: MessageLike | undefined): string {
  const content = message?.content;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((part: { text?: unknown }) => (typeof part?.text === "string" ? part.text : "")).join(" ");
  }
  return "";
}

function directive(text: string, name: string): string | undefined {
  return text.match(new RegExp(`\\[mock:${name}=([^\\]]+)\\]`))?.[1];
}

/** The deterministic reply: proof of what the model was shown, readable in a demo. */
export function replyText(messages: readonly MessageLike[]): string {
  const dialogue = messages.filter((m) => m.role !== "system" && m.role !== "developer");
  const last = [...dialogue].reverse().find((m) => m.role === "user");
  const said = textOf(last).replace(/\[mock:[^\]]*\]/g, "").trim();
  const earlier = dialogue.length - 1;
  const system = messages.find((m) => m.role === "system" || m.role === "developer");
  const prefs = textOf(system).match(/User preferences: (.*)/)?.[1];
  const parts = [`You said: "${said}".`, `I can see ${earlier} earlier message${earlier === 1 ? "" : "s"} in this conversation.`];
  if (prefs) parts.push(`I know your preferences: ${prefs}.`);
  return parts.join(" ");
}

/** How the proxy's summariser opens its instruction (src/memory/summary-prompt.ts). */
const SUMMARY_CALL = "You maintain the running summary of a conversation";

/**
 * The summariser's answer, as a real model's would be, but deterministic: the previous summary,
 * then what the user said in the new messages, so a test can tell what was folded, and how often.
 */
export function summaryText(request: string): string {
  const previous = request.match(/^Previous summary:\n([\s\S]*?)\n\nNew messages:/)?.[1]?.trim();
  const said = [...request.matchAll(/^user: (.*)$/gm)].map((match) => match[1]!.replace(/\[mock:[^\]]*\]/g, "").trim());
  return [previous && previous !== "(none)" ? previous : undefined, ...said].filter(Boolean).join(" | ");
}

/** How the proxy's preference extractor opens its instruction (src/memory/learn-preferences.ts). */
const EXTRACTION_CALL = "You keep a user's long-term preferences.";

/**
 * The extractor's answer, deterministic: "my name is Ada" -> {"name":"Ada"}, "I live in Porto" ->
 * {"city":"Porto"}, "forget my city" -> {"city":null}, else {}. `[mock:extract=prose|broken|array|huge]`
 * in what the user said makes a bad answer instead.
 */
export function extractionAnswer(request: string): string {
  const said = request.match(/The user said:\n([\s\S]*?)\n\nThe assistant answered:/)?.[1] ?? "";
  const bad = directive(said, "extract");
  if (bad === "prose") return "The user seems to be called Ada and likes trains.";
  if (bad === "broken") return '{"name": "Ada"';
  if (bad === "array") return '["name", "Ada"]';
  if (bad === "huge") return JSON.stringify({ notes: "x".repeat(20_000) });
  const patch: Record<string, string | null> = {};
  const name = said.match(/my name is ([\p{L}-]+)/iu)?.[1];
  const city = said.match(/I live in ([\p{L}-]+)/iu)?.[1];
  if (name) patch.name = name;
  if (city) patch.city = city;
  if (/forget my city/i.test(said)) patch.city = null;
  return JSON.stringify(patch);
}

function isSummaryCall(messages: readonly MessageLike[]): boolean {
  return messages[0]?.role === "system" && textOf(messages[0]).startsWith(SUMMARY_CALL);
}

export function scriptFor(body: { messages?: MessageLike[]; tools?: unknown[] }): Script {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  if (messages[0]?.role === "system" && textOf(messages[0]).startsWith(EXTRACTION_CALL)) {
    const said = textOf(messages[1]);
    const status = Number(directive(said, "extract-status") ?? 200);
    const delay = directive(said, "extract-delay");
    return { status, delayMs: delay === undefined ? undefined : Number(delay), pieces: [extractionAnswer(said)], toolCall: undefined, toolCalls: 0, ending: "finish", endAfter: 0 };
  }
  if (isSummaryCall(messages)) {
    const text = summaryText(textOf(messages[1]));
    return { status: 200, delayMs: undefined, pieces: [text], toolCall: undefined, toolCalls: 0, ending: "finish", endAfter: 0 };
  }
  const last = [...messages].reverse().find((m) => m.role === "user" || m.role === "tool");
  const text = last?.role === "user" ? textOf(last) : "";
  const words = Number(directive(text, "words") ?? 0);
  const reply = words > 0 ? Array.from({ length: words }, (_, i) => `word${i + 1}`).join(" ") : replyText(messages);
  const tool = directive(text, "tool");
  const endings = [
    ["drop", directive(text, "drop-after")],
    ["stall", directive(text, "stall-after")],
    ["error-event", directive(text, "error-event-after")],
  ] as const;
  const ending = endings.find(([, after]) => after !== undefined);
  return {
    status: Number(directive(text, "status") ?? 200),
    delayMs: directive(text, "delay") === undefined ? undefined : Number(directive(text, "delay")),
    paceMs: directive(text, "pace") === undefined ? undefined : Number(directive(text, "pace")),
    pieces: tool ? [] : reply.split(/(?<= )/),
    toolCall: tool ? { name: tool, arguments: JSON.stringify({ query: text.replace(/\[mock:[^\]]*\]/g, "").trim() }) } : undefined,
    toolCalls: Number(directive(text, "tool-calls") ?? 1),
    ending: ending ? ending[0] : "finish",
    endAfter: ending ? Number(ending[1]) : 0,
  };
}
