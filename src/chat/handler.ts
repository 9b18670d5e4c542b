import type { Context } from "hono";
import type { ChatCompletionCreateParams } from "openai/resources/chat/completions";
import type { AppEnv } from "../app-env";
import { userOf } from "../auth/caller";
import type { Config } from "../config";
import { readJsonBody } from "../http/body";
import { abortAfter } from "../http/deadline";
import { UpstreamError } from "../http/errors";
import { log } from "../http/log";
import { newSessionId, validId } from "../http/ids";
import { admitUser } from "../limits/rate-limit";
import { assertTurnFits, fitSave } from "../memory/save-budget";
import { toStoredMessage } from "../memory/stored-message";
import { redisClient } from "../memory/redis";
import { RedisBatch } from "../memory/redis-batch";
import { emptyMemory, turnMemory, type TurnMemory, type TurnTarget } from "../memory/turn-memory";
import { startCompletion, upstreamClient } from "../upstream/client";
import { splitConversation } from "./conversation";
import { resolveModel } from "./model";
import { buildSystemMessage, instructionText } from "./prompt";
import { relayStream } from "./relay";
import { replyFromCompletion, type AssistantMessage } from "./reply";
import { parseChatRequest } from "./validate";
import { messageText } from "./text";
import { slideWindow } from "./trim";
import { applyWidgetPolicy, requestLimits } from "./widget-policy";

/** POST /v1/chat/completions: the whole pipeline of DESIGN.md, from validation to the saved turn. */
export async function chatCompletions(c: Context<AppEnv>): Promise<Response> {
  const config = c.get("config");
  const caller = c.get("caller");
  const timing = c.get("timing");

  const parsed = parseChatRequest(await readJsonBody(c.req.raw, config.limits.maxBodyBytes), requestLimits(caller, config));
  const user = userOf(caller, parsed.user);
  const stateful = c.req.header("X-Session-Store")?.trim().toLowerCase() !== "false";
  const sessionHeader = c.req.header("X-Session-Id");
  const session = sessionHeader !== undefined ? validId(sessionHeader, "X-Session-Id") : stateful ? newSessionId() : undefined;
  // Known from here on, errors included, so a client can tell which session a failure concerns.
  if (session) c.header("X-Session-Id", session);
  const model = resolveModel(parsed.model, caller, config.upstream);
  const conversation = splitConversation(parsed.messages);
  const request = applyWidgetPolicy(parsed, conversation, caller, config.widget);
  const newTurn = conversation.newTurn.map(toStoredMessage);
  if (stateful) assertTurnFits(newTurn, config.limits.maxMessageBytes);
  const upstream = upstreamClient(config);
  const target = { user, session: stateful ? session : undefined };
  const store = target.session || config.cosmos ? turnMemory(config, (work) => c.executionCtx.waitUntil(work)) : undefined;

  const { memory, limitHeaders } = await timing.measure("memory", () => loadMemory(config, store, target));
  // Stored history is authoritative; the client's copy only starts a session that has none.
  const seed = memory.messages.length === 0 ? conversation.earlier : [];
  const system = buildSystemMessage({
    instructions: conversation.instructions.length ? instructionText(conversation.instructions) : config.systemPrompt,
    role: conversation.instructions[0]?.role ?? "system",
    preferences: memory.preferences,
    summary: memory.summary,
  });
  const window = slideWindow({
    system,
    history: memory.messages.length > 0 ? memory.messages : conversation.earlier,
    newTurn: conversation.newTurn,
    ...config.window,
  });

  const headers = new Headers({
    ...limitHeaders,
    "X-History-Kept": String(window.kept),
    "X-History-Dropped": String(window.dropped),
  });
  // The estimate includes the operator's system prompt, whose length is not a widget's business.
  if (caller.kind === "api_key") headers.set("X-Prompt-Tokens-Estimated", String(window.estimatedTokens));
  if (session) headers.set("X-Session-Id", session);
  if (memory.degraded.length > 0) headers.set("X-Memory-Degraded", memory.degraded.join(", "));

  // One line per turn for the operator: what the window did, never what was said (unless LOG_CONTENT).
  const turnLog = {
    model,
    stream: Boolean(request.stream),
    history_kept: window.kept,
    history_dropped: window.dropped,
    prompt_tokens_estimated: window.estimatedTokens,
    ...(memory.degraded.length ? { degraded: memory.degraded } : {}),
  };
  const persist = async (reply: AssistantMessage) => {
    if (store) {
      const { maxMessageBytes } = config.limits;
      const turn = target.session ? fitSave(seed.map(toStoredMessage), [...newTurn, toStoredMessage(reply)], maxMessageBytes, config.sessions.maxStored) : [];
      await timing.measure("persist", () => store.save(target, turn, memory));
    }
    log("info", "chat_turn", {
      ...turnLog,
      ...(config.logContent ? { content: { new_turn: conversation.newTurn.map(messageText), reply: messageText(reply) } } : {}),
    });
  };

  const body = { ...request, model, messages: window.messages } as ChatCompletionCreateParams;
  // One deadline for the answer's headers over every attempt, and (non-streamed) for its body.
  const deadline = abortAfter(config.upstream.timeoutMs);
  const providerMessages = caller.kind === "api_key";
  const response = await timing
    .measure("upstream", () => startCompletion(upstream, body, { signal: deadline.signal, providerMessages }))
    .catch((error: unknown) => {
      deadline.cancel();
      throw error;
    });
  if (!response.body) throw new UpstreamError(502, "The upstream model provider sent an empty response.");

  if (request.stream) {
    // From here the idle timeout bounds the stream, however long the answer.
    deadline.cancel();
    const relay = relayStream(response.body, {
      idleTimeoutMs: config.upstream.idleTimeoutMs,
      clientGone: c.req.raw.signal,
      complete: persist,
      onFailure: (reason) => log("warn", "stream_failed", { ...turnLog, reason }),
    });
    c.executionCtx.waitUntil(relay.finished);
    headers.set("Content-Type", "text/event-stream; charset=utf-8");
    headers.set("Cache-Control", "no-cache");
    headers.set("Server-Timing", timing.header());
    return c.newResponse(relay.body, 200, Object.fromEntries(headers));
  }

  const text = await readUpstreamBody(response, deadline);
  let reply: AssistantMessage | undefined;
  try {
    reply = replyFromCompletion(JSON.parse(text));
  } catch {
    reply = undefined;
  }
  if (!reply) throw new UpstreamError(502, "The upstream model provider sent a completion without a message.", { code: "upstream_bad_response" });
  await persist(reply);
  headers.set("Content-Type", response.headers.get("Content-Type") ?? "application/json");
  headers.set("Server-Timing", timing.header());
  return c.newResponse(text, 200, Object.fromEntries(headers));
}

/**
 * The rate-limit check and the turn's reads, sent together as one Upstash request. A user over
 * the limit gets 429 before anything else is done for them (Cosmos included).
 */
async function loadMemory(config: Config, store: TurnMemory | undefined, target: TurnTarget) {
  const batch = store ? store.batch() : config.rateLimit.requests > 0 ? new RedisBatch(redisClient(config)) : undefined;
  if (!batch) return { memory: emptyMemory(), limitHeaders: {} };
  const admitted = admitUser(config, batch, target.user);
  const gate = admitted.then(() => {});
  gate.catch(() => {}); // load awaits it only before a Cosmos read; the verdict is awaited below anyway
  const loading = store ? store.load(target, config.window.maxMessages - 1, batch, gate) : Promise.resolve(emptyMemory());
  loading.catch(() => {}); // awaited below, after the verdict
  await batch.flush().catch(() => {}); // failures surface through the promises above
  const limitHeaders = await admitted;
  return { memory: await loading, limitHeaders };
}

/** The non-streamed answer, within what is left of the deadline (whose signal aborts the read). */
async function readUpstreamBody(response: Response, deadline: ReturnType<typeof abortAfter>): Promise<string> {
  try {
    return await response.text();
  } catch {
    if (deadline.signal.aborted) {
      throw new UpstreamError(504, "The upstream model provider did not finish its answer in time.", { code: "upstream_timeout" });
    }
    throw new UpstreamError(502, "The connection to the upstream model provider broke.", { code: "upstream_stream_broken" });
  } finally {
    deadline.cancel();
  }
}
