import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../auth/app-env";
import { ServiceUnavailableError } from "../http/errors";
import { validId } from "../http/ids";
import { describeError, log } from "../http/log";
import { sessionObjectName } from "./session-sync";

/**
 * Chat turns of a widget's session run in the session's Durable Object (RESUMABLE_REPLIES), which
 * owns the generation: a reply goes on, and is saved, when the phone that asked for it drops off
 * the network, and the widget attaches again to get the rest. Other callers, and turns without a
 * session, run here as ever.
 */
export const inSessionObject: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { resumable } = c.get("config");
  const caller = c.get("caller");
  const session = c.req.header("X-Session-Id");
  if (!resumable || caller.kind !== "widget" || session === undefined || c.req.method !== "POST") return next();
  const { objects } = resumable;
  const stub = objects.get(objects.idFromName(sessionObjectName(caller.userId, validId(session, "X-Session-Id"))));
  // The object's log lines carry this request's id, as the rest of the request's do.
  const headers = new Headers(c.req.raw.headers);
  headers.set("X-Request-Id", c.get("requestId"));
  let answer: Response;
  try {
    answer = await stub.turn(new Request(c.req.raw, { headers }), caller);
  } catch (error) {
    // The object could not be reached, or was reset (a deploy) before it answered: the turn has no answer.
    log("error", "session_object_failed", { error: describeError(error) });
    throw new ServiceUnavailableError("The chat service is briefly unavailable. Please try again.", { code: "session_unavailable" });
  }
  // The front door's phases (authentication) first, then the object's (memory, upstream).
  const timing = [c.get("timing").header(), answer.headers.get("Server-Timing")].filter(Boolean).join(", ");
  // Through the context, so what the front door's middleware set (X-Request-Id, CORS) joins the object's headers.
  const answered = c.newResponse(answer.body, answer);
  if (timing) answered.headers.set("Server-Timing", timing);
  return answered;
};
