import { Hono, type Context } from "hono";
import type { ChatCompletionCreateParams } from "openai/resources/chat/completions";
import type { AppEnv } from "../auth/app-env";
import { userOf } from "../auth/caller";
import { splitConversation } from "../messages/conversation";
import { resolveModel } from "../turn/model";
import { relayStream } from "../turn/relay";
import { replyFromCompletion, type AssistantMessage } from "../messages/reply";
import type { ChatRequest } from "../messages/schema";
import { instructionText } from "../messages/text";
import { applyWidgetPolicy, requestLimits } from "../turn/widget-policy";
import { readJsonBody } from "../http/body";
import { NotFoundError, UpstreamError } from "../http/errors";
import { log } from "../http/log";
import { responseStore } from "../memory/response-store";
import { toStoredMessage } from "../memory/stored-message";
import { limitPerUser } from "../rate-limit/middleware";
import { answer } from "../turn/answer";
import { idempotencyKey } from "../turn/idempotency-key";
import { syncToken } from "../turn/sync-token";
import { openTurn, type RecordWithin, type Turn } from "../turn/open-turn";
import { readerOfSession } from "../turn/session-reader";
import { askUpstream, readUpstreamBody } from "../upstream/ask";
import { upstreamClient } from "../upstream/client";
import { inputItemId, newId, sessionOfId } from "./ids";
import { itemsOf, outputOf, type ListedItem } from "./items";
import { pageOf } from "./list-page";
import { recordWithin } from "./record";
import { endOf, responseObject, responseShell, usageOf, type ResponseObject, type ResponseShell } from "./response-object";
import { sessionOfRequest } from "./state";
import { ResponseEvents } from "./stream-events";
import { translateInput } from "./translate-input";
import { chatParameters } from "./translate-request";
import { parseResponsesRequest, refuseWidgetFields } from "./validate";

/**
 * POST /v1/responses: the Responses API as a front door onto the same turn as chat. The request
 * is translated to Chat Completions for the upstream; the answer is translated back, and the
 * response record is saved in the turn's own transaction before the client hears it is complete.
 */
async function createResponse(c: Context<AppEnv>): Promise<Response> {
  const config = c.get("config");
  const caller = c.get("caller");
  const timing = c.get("timing");

  const request = parseResponsesRequest(await readJsonBody(c.req.raw, config.limits.maxBodyBytes), requestLimits(caller, config));
  refuseWidgetFields(request, caller);
  const user = userOf(caller, request.user ?? undefined);
  const input = translateInput(request.input, request.instructions);
  const { session, conversation: conversationId, previous } = sessionOfRequest(request, c.req.header("X-Session-Id"), input);
  if (session) c.header("X-Session-Id", session);
  const model = resolveModel(request.model, caller, config.upstream);
  const conversation = splitConversation(input.messages, "input");
  const stream = Boolean(request.stream);
  const chat = applyWidgetPolicy(
    { model, messages: input.messages, ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}), ...chatParameters(request) } as ChatRequest,
    conversation,
    caller,
    config.widget,
    "input",
  );
  const upstream = upstreamClient(config);
  // References stand for replies of ours the session holds; they are not the client's to seed.
  const earlier = conversation.earlier.filter((message) => !input.references.has(message));

  const turn = await openTurn({
    config,
    caller,
    user,
    session,
    idempotencyKey: idempotencyKey(c.req.header("Idempotency-Key")),
    syncToken: syncToken(c.req.header("X-Session-Sync")),
    previousResponse: previous,
    instructions: conversation.instructions.length
      ? { text: instructionText(conversation.instructions), role: conversation.instructions[0]!.role }
      : undefined,
    earlier,
    newTurn: conversation.newTurn,
    timing,
    background: (work) => c.executionCtx.waitUntil(work),
    describe: { protocol: "responses", model, stream },
  });

  const id = newId("resp", session);
  // What the upstream was asked for, which a widget's cap may have lowered.
  const maxOutputTokens = chat.max_completion_tokens ?? chat.max_tokens ?? request.max_output_tokens;
  const shell = responseShell(
    { ...request, max_output_tokens: typeof maxOutputTokens === "number" ? maxOutputTokens : null },
    { id, model, createdAt: Math.floor(Date.now() / 1000), conversation: conversationId },
  );
  // What the request added to its session: the new turn, after the earlier items a fresh session starts with.
  const added = turn.fresh ? [...earlier, ...conversation.newTurn] : conversation.newTurn;
  const inputItems = itemsOf(added.map(toStoredMessage), (kind, index, call) => inputItemId(id, kind, index, call));
  const recordOf = (response: ResponseObject): RecordWithin | undefined =>
    session ? recordWithin(id, response, inputItems, config.limits.maxMessageBytes) : undefined;

  // A retry is answered from the session even if the response it continued is gone since.
  if (turn.replay) {
    turn.headers["Idempotent-Replayed"] = "true";
    return replayed(c, turn, turn.replay, { shell, session, stream, recordOf });
  }
  if (previous && !turn.holdsPreviousResponse) throw new NotFoundError(`No response '${previous}'.`, { param: "previous_response_id" });
  // References stand for our replies in their session; with nothing there the model would miss them.
  if (input.references.size > 0 && (turn.fresh || input.referencedSession !== session)) {
    throw new NotFoundError("The items this input references are not in its session any more (expired, deleted, or another session): send the items themselves.", {
      param: "input",
    });
  }

  const body = { ...chat, model, messages: turn.messages } as ChatCompletionCreateParams;
  const asked = await askUpstream(upstream, body, { timeoutMs: config.upstream.timeoutMs, timing, providerMessages: caller.kind === "api_key" });

  if (stream) {
    asked.deadline.cancel();
    const events = new ResponseEvents(shell, session);
    const relay = relayStream(asked.response.body, {
      idleTimeoutMs: config.upstream.idleTimeoutMs,
      clientGone: c.req.raw.signal,
      format: events,
      complete: async (reply) => void (await turn.commit(reply, recordOf(events.final()))),
      onFailure: (reason) => log("warn", "stream_failed", { ...turn.logFields, reason }),
    });
    c.executionCtx.waitUntil(relay.finished);
    turn.headers["Cache-Control"] = "no-cache";
    return answer(c, turn, "text/event-stream; charset=utf-8", relay.body);
  }

  const completion = parseCompletion(await readUpstreamBody(asked));
  const reply = replyFromCompletion(completion);
  if (!reply) throw new UpstreamError(502, "The upstream model provider sent a completion without a message.", { code: "upstream_bad_response" });
  const end = endOf(completion.choices?.[0]?.finish_reason);
  const output = outputOf(reply, session, end.status);
  const response = responseObject(shell, { ...end, output, usage: usageOf(completion.usage) });
  const standing = await turn.commit(reply, recordOf(response));
  if (standing !== reply) {
    turn.headers["Idempotent-Replayed"] = "true";
    return replayed(c, turn, standing, { shell, session, stream: false, recordOf });
  }
  return answer(c, turn, "application/json", JSON.stringify(response));
}

interface Completion {
  choices?: Array<{ finish_reason?: string | null }>;
  usage?: Parameters<typeof usageOf>[0];
}

function parseCompletion(text: string): Completion {
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === "object") return body;
  } catch {
    // below
  }
  throw new UpstreamError(502, "The upstream model provider sent a completion that is not JSON.", { code: "upstream_bad_response" });
}

interface Replay {
  shell: ResponseShell;
  session: string | undefined;
  stream: boolean;
  recordOf: (response: ResponseObject) => RecordWithin | undefined;
}

/**
 * A reply this session already committed (an Idempotency-Key retry), answered again as a new
 * response. Its record is saved like any other (the turn itself is not appended twice), so the
 * client can chain from the id it was given.
 */
async function replayed(c: Context<AppEnv>, turn: Turn, reply: AssistantMessage, { shell, session, stream, recordOf }: Replay): Promise<Response> {
  const events = new ResponseEvents(shell, session);
  const toolCalls = reply.tool_calls?.map((call, index) => ({ index, ...call }));
  const opening = events.start() + events.event("", { choices: [{ index: 0, delta: { content: reply.content ?? "", ...(toolCalls ? { tool_calls: toolCalls } : {}) } }] });
  await turn.commit(reply, recordOf(events.final()));
  if (!stream) return answer(c, turn, "application/json", JSON.stringify(events.final()));
  return answer(c, turn, "text/event-stream; charset=utf-8", opening + events.end());
}

/** The response an id names, for its owner; anything else is indistinguishable from no response. */
async function storedResponse(c: Context<AppEnv>) {
  const user = userOf(c.get("caller"));
  const id = c.req.param("id") ?? "";
  const session = sessionOfId(id, "resp");
  const config = c.get("config");
  // Read after the session's latest save: a response created in another region within the lag shows.
  const record = session ? await responseStore(config, await readerOfSession(c, user, session)).get(user, session, id) : undefined;
  if (!session || !record) throw new NotFoundError(`No response '${id.slice(0, 200)}'.`, { param: "response_id" });
  return { user, id, session, record };
}

export const responseRoutes = new Hono<AppEnv>()
  .post("/", createResponse)
  .get("/:id", limitPerUser, async (c) => c.json((await storedResponse(c)).record.response))
  .get("/:id/input_items", limitPerUser, async (c) => {
    const { record } = await storedResponse(c);
    return c.json(pageOf(record.input_items.filter(hasId), c.req.query()));
  })
  .delete("/:id", limitPerUser, async (c) => {
    const user = userOf(c.get("caller"));
    const id = c.req.param("id");
    const session = sessionOfId(id, "resp");
    if (!session || !(await responseStore(c.get("config")).remove(user, session, id))) throw new NotFoundError(`No response '${id.slice(0, 200)}'.`, { param: "response_id" });
    return c.json({ id, object: "response", deleted: true });
  });

function hasId(item: Record<string, unknown> & { type: string }): item is ListedItem {
  return typeof item.id === "string";
}


