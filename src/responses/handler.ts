import { Hono, type Context } from "hono";
import { userOf } from "../auth/caller";
import { readJsonBody } from "../http/body";
import { NotFoundError } from "../http/errors";
import type { ChatRequest } from "../messages/schema";
import { responseStore } from "../memory/response-store";
import { toStoredMessage } from "../memory/stored-message";
import { limitPerUser } from "../rate-limit/middleware";
import type { RecordWithin } from "../turn/open-turn";
import { runTurn, JSON_TYPE, SSE, type OpenedTurn, type ReplyEncoder } from "../turn/run-turn";
import { readerOfSession } from "../turn/session-reader";
import type { TurnEnv } from "../turn/turn-env";
import { requestLimits } from "../turn/widget-policy";
import { inputItemId, newId, sessionOfId } from "./ids";
import { itemsOf, outputOf, type ListedItem } from "./items";
import { pageOf } from "./list-page";
import { recordWithin } from "./record";
import { endOf, responseObject, responseShell, usageOf, type ResponseObject } from "./response-object";
import type { ResponsesRequest } from "./schema";
import { sessionOfRequest } from "./state";
import { ResponseEvents } from "./stream-events";
import { translateInput, type TranslatedInput } from "./translate-input";
import { chatParameters } from "./translate-request";
import { parseResponsesRequest, refuseWidgetFields } from "./validate";

/**
 * POST /v1/responses: the Responses API as a front door onto the same turn as chat. The request
 * is translated to Chat Completions for the turn; its answer is encoded as Responses' objects and
 * typed events, and the response record is saved in the turn's own transaction before the client
 * hears it is complete.
 */
async function createResponse(c: Context<TurnEnv>): Promise<Response> {
  const config = c.get("config");
  const caller = c.get("caller");
  const request = parseResponsesRequest(await readJsonBody(c.req.raw, config.limits.maxBodyBytes), requestLimits(caller, config));
  refuseWidgetFields(request, caller);
  const user = userOf(caller, request.user ?? undefined);
  const input = translateInput(request.input, request.instructions);
  const { session, conversation, previous } = sessionOfRequest(request, c.req.header("X-Session-Id"), input);
  if (session) c.header("X-Session-Id", session);
  const stream = Boolean(request.stream);
  const chat = { model: request.model, messages: input.messages, ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}), ...chatParameters(request) } as ChatRequest;
  return runTurn(
    c,
    // References stand for replies of ours the session holds; they are not the client's to seed.
    { request: chat, param: "input", user, session, previousResponse: previous, seeds: (message) => !input.references.has(message), protocol: "responses" },
    (opened) => responsesEncoder(opened, { request, input, session, conversation, previous, maxMessageBytes: config.limits.maxMessageBytes }),
  );
}

interface ResponseContext {
  request: ResponsesRequest;
  input: TranslatedInput;
  session: string | undefined;
  conversation: string | undefined;
  previous: string | undefined;
  maxMessageBytes: number;
}

function responsesEncoder({ turn, model, request: chat, added }: OpenedTurn, { request, input, session, conversation, previous, maxMessageBytes }: ResponseContext): ReplyEncoder {
  const id = newId("resp", session);
  // What the upstream was asked for, which a widget's cap may have lowered.
  const maxOutputTokens = chat.max_completion_tokens ?? chat.max_tokens ?? request.max_output_tokens;
  const shell = responseShell(
    { ...request, max_output_tokens: typeof maxOutputTokens === "number" ? maxOutputTokens : null },
    { id, model, createdAt: Math.floor(Date.now() / 1000), conversation },
  );
  const inputItems = itemsOf(added.map(toStoredMessage), (kind, index, call) => inputItemId(id, kind, index, call));
  const recordOf = (response: ResponseObject): RecordWithin | undefined => (session ? recordWithin(id, response, inputItems, maxMessageBytes) : undefined);
  const events = new ResponseEvents(shell, session);
  return {
    format: events,
    streamedRecord: () => recordOf(events.final()),
    completion: ({ completion, reply }) => {
      const end = endOf(completion.choices?.[0]?.finish_reason);
      const output = outputOf(reply, session, end.status);
      const response = responseObject(shell, { ...end, output, usage: usageOf(completion.usage) });
      return { contentType: JSON_TYPE, body: JSON.stringify(response), record: recordOf(response) };
    },
    replay: (reply, stream) => {
      const again = new ResponseEvents(shell, session);
      const toolCalls = reply.tool_calls?.map((call, index) => ({ index, ...call }));
      const opening = again.start() + again.event("", { choices: [{ index: 0, delta: { content: reply.content ?? "", ...(toolCalls ? { tool_calls: toolCalls } : {}) } }] });
      const record = recordOf(again.final());
      return stream ? { contentType: SSE, body: opening + again.end(), record } : { contentType: JSON_TYPE, body: JSON.stringify(again.final()), record };
    },
    check: () => {
      if (previous && !turn.holdsPreviousResponse) throw new NotFoundError(`No response '${previous}'.`, { param: "previous_response_id" });
      // References stand for our replies in their session; with nothing there the model would miss them.
      if (input.references.size > 0 && (turn.fresh || input.referencedSession !== session)) {
        throw new NotFoundError("The items this input references are not in its session any more (expired, deleted, or another session): send the items themselves.", {
          param: "input",
        });
      }
    },
  };
}

/** The response an id names, for its owner; anything else is indistinguishable from no response. */
async function storedResponse(c: Context<TurnEnv>) {
  const user = userOf(c.get("caller"));
  const id = c.req.param("id") ?? "";
  const session = sessionOfId(id, "resp");
  const config = c.get("config");
  // Read after the session's latest save: a response created in another region within the lag shows.
  const record = session ? await responseStore(config, await readerOfSession(c, user, session)).get(user, session, id) : undefined;
  if (!session || !record) throw new NotFoundError(`No response '${id.slice(0, 200)}'.`, { param: "response_id" });
  return { user, id, session, record };
}

export const responseRoutes = new Hono<TurnEnv>()
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


