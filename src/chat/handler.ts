import { Hono, type Context } from "hono";
import { userOf } from "../auth/caller";
import { readJsonBody } from "../http/body";
import { newSessionId, validId } from "../http/ids";
import { runTurn, JSON_TYPE, SSE, type OpenedTurn, type ReplyEncoder } from "../turn/run-turn";
import type { TurnEnv } from "../turn/turn-env";
import { requestLimits } from "../turn/widget-policy";
import { completionOf, streamOf } from "./replay";
import { chatFormat } from "./sse-format";
import { parseChatRequest } from "./validate";

/**
 * POST /v1/chat/completions: the Chat Completions front door. The request is already the turn's
 * shape; this names its user and session, and encodes the answer: the upstream's own bytes,
 * `[DONE]` held for the save, or a stored reply in the same shapes.
 */
async function chatCompletions(c: Context<TurnEnv>): Promise<Response> {
  const config = c.get("config");
  const caller = c.get("caller");
  const request = parseChatRequest(await readJsonBody(c.req.raw, config.limits.maxBodyBytes), requestLimits(caller, config));
  const user = userOf(caller, request.user);
  const stateful = c.req.header("X-Session-Store")?.trim().toLowerCase() !== "false";
  const sessionHeader = c.req.header("X-Session-Id");
  const session = sessionHeader !== undefined ? validId(sessionHeader, "X-Session-Id") : stateful ? newSessionId() : undefined;
  // Known from here on, errors included, so a client can tell which session a failure concerns.
  if (session) c.header("X-Session-Id", session);
  return runTurn(c, { request, param: "messages", user, session: stateful ? session : undefined, protocol: "chat" }, chatEncoder);
}

function chatEncoder({ turn, model, request }: OpenedTurn): ReplyEncoder {
  const options: unknown = request.stream_options;
  const usage = typeof options === "object" && options !== null && "include_usage" in options && options.include_usage === true;
  return {
    format: chatFormat(() => turn.headers["X-Session-Sync"]),
    completion: ({ text, contentType }) => ({ contentType: contentType ?? JSON_TYPE, body: text }),
    replay: (reply, stream) =>
      stream ? { contentType: SSE, body: streamOf(reply, model, { usage }) } : { contentType: JSON_TYPE, body: JSON.stringify(completionOf(reply, model)) },
  };
}

export const chatRoutes = new Hono<TurnEnv>().post("/", chatCompletions);
