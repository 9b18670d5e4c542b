import { Hono, type Context } from "hono";
import type { ChatCompletionCreateParams } from "openai/resources/chat/completions";
import { userOf } from "../auth/caller";
import { readJsonBody } from "../http/body";
import { UpstreamError } from "../http/errors";
import { log } from "../http/log";
import { newSessionId, validId } from "../http/ids";
import { idempotencyKey } from "../turn/idempotency-key";
import { syncToken } from "../turn/sync-token";
import { answer } from "../turn/answer";
import { openTurn } from "../turn/open-turn";
import type { TurnEnv } from "../turn/turn-env";
import { askUpstream, readUpstreamBody } from "../upstream/ask";
import { upstreamClient } from "../upstream/client";
import { splitConversation } from "../messages/conversation";
import { resolveModel } from "../turn/model";
import { chatFormat, relayStream } from "../turn/relay";
import { completionOf, streamOf } from "./replay";
import { replyFromCompletion } from "../messages/reply";
import { instructionText } from "../messages/text";
import { parseChatRequest } from "./validate";
import { applyWidgetPolicy, requestLimits } from "../turn/widget-policy";

/**
 * POST /v1/chat/completions: the Chat Completions front door. It translates the request into a
 * turn (who, which session, what is new), asks the upstream with the turn's prompt, and relays the
 * answer while the turn saves it.
 */
async function chatCompletions(c: Context<TurnEnv>): Promise<Response> {
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
  const stream = Boolean(request.stream);
  const upstream = upstreamClient(config); // before any memory work: an unconfigured upstream fails fast

  const turn = await openTurn({
    config,
    caller,
    user,
    session: stateful ? session : undefined,
    idempotencyKey: idempotencyKey(c.req.header("Idempotency-Key")),
    syncToken: syncToken(c.req.header("X-Session-Sync")),
    instructions: conversation.instructions.length
      ? { text: instructionText(conversation.instructions), role: conversation.instructions[0]!.role }
      : undefined,
    earlier: conversation.earlier,
    newTurn: conversation.newTurn,
    timing,
    background: (work) => c.executionCtx.waitUntil(work),
    describe: { protocol: "chat", model, stream },
  });
  if (turn.replay) {
    turn.headers["Idempotent-Replayed"] = "true";
    return answer(c, turn, stream ? "text/event-stream; charset=utf-8" : "application/json", stream ? streamOf(turn.replay, model) : JSON.stringify(completionOf(turn.replay, model)));
  }

  const body = { ...request, model, messages: turn.messages } as ChatCompletionCreateParams;
  const asked = await askUpstream(upstream, body, { timeoutMs: config.upstream.timeoutMs, timing, providerMessages: caller.kind === "api_key" });

  if (stream) {
    // From here the idle timeout bounds the stream, however long the answer.
    asked.deadline.cancel();
    const relay = relayStream(asked.response.body, {
      idleTimeoutMs: config.upstream.idleTimeoutMs,
      clientGone: c.req.raw.signal,
      format: chatFormat(() => turn.headers["X-Session-Sync"]),
      complete: async (reply) => void (await turn.commit(reply)),
      onFailure: (reason) => log("warn", "stream_failed", { ...turn.logFields, reason }),
      into: c.get("replyLog"),
    });
    c.executionCtx.waitUntil(relay.finished);
    turn.headers["Cache-Control"] = "no-cache";
    return answer(c, turn, "text/event-stream; charset=utf-8", relay.body);
  }

  const text = await readUpstreamBody(asked);
  let reply;
  try {
    reply = replyFromCompletion(JSON.parse(text));
  } catch {
    reply = undefined;
  }
  if (!reply) throw new UpstreamError(502, "The upstream model provider sent a completion without a message.", { code: "upstream_bad_response" });
  const standing = await turn.commit(reply);
  // A retry that raced its first attempt: the first one's reply is the one the session remembers.
  if (standing !== reply) {
    turn.headers["Idempotent-Replayed"] = "true";
    return answer(c, turn, "application/json", JSON.stringify(completionOf(standing, model)));
  }
  return answer(c, turn, asked.response.headers.get("Content-Type") ?? "application/json", text);
}

export const chatRoutes = new Hono<TurnEnv>().post("/", chatCompletions);
