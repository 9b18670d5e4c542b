import { DurableObject } from "cloudflare:workers";
import { Hono, type MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env";
import type { Caller } from "../auth/caller";
import { loadConfig, type Env } from "../config";
import { errorResponse } from "../http/error-response";
import { InvalidRequestError } from "../http/errors";
import { log } from "../http/log";
import { requestId } from "../http/request-id";
import { ServerTiming } from "../http/server-timing";
import { idempotencyKey } from "../turn/idempotency-key";
import { chatRoutes } from "./handler";
import { KeepAlive } from "./keep-alive";
import { ReplyLog } from "./reply-log";

/** How long a finished reply can still be attached to; after it, a retry gets the saved turn instead. */
const KEEP_FINISHED_MS = 60_000;

/**
 * What the object hands the turn besides the request: who asked (the front door authenticated
 * them), the session's replies by Idempotency-Key, and what keeps the object alive for them.
 */
const given = new WeakMap<Request, { caller: Caller; replies: Map<string, ReplyLog>; keepAlive: KeepAlive }>();

/** `Last-Event-ID`: the last piece of a reply the client has, or 0 for none. */
function lastEventId(header: string | undefined): number {
  if (header === undefined || header.trim() === "") return 0;
  if (!/^\d{1,9}$/.test(header.trim())) {
    throw new InvalidRequestError("Last-Event-ID must be an event id this proxy sent (a whole number).", { param: "Last-Event-ID", code: "invalid_last_event_id" });
  }
  return Number(header.trim());
}

/**
 * A request with an Idempotency-Key that names a reply this session is streaming (or streamed a
 * moment ago) attaches to it: the pieces after Last-Event-ID, then the rest as it comes, from the
 * one generation, which is saved once. Any other request records its streamed reply for such a
 * retry, and runs as a turn.
 */
const attachOrRecord: MiddlewareHandler<AppEnv> = async (c, next) => {
  const { replies, keepAlive } = given.get(c.req.raw)!;
  const now = Date.now();
  for (const [key, reply] of replies) if (reply.ended !== undefined && now - reply.ended > KEEP_FINISHED_MS) replies.delete(key);

  const key = idempotencyKey(c.req.header("Idempotency-Key"));
  if (key === undefined) return next();
  const running = replies.get(key);
  // A first attempt still loading its memory is waited for; one that answered without streaming leaves the retry to run.
  if (running && (await running.streaming)) {
    const after = lastEventId(c.req.header("Last-Event-ID"));
    return c.body(running.read(after), 200, {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache",
      "X-Session-Id": c.req.header("X-Session-Id") ?? "",
      "X-Reply-Resumed": "true",
    });
  }
  const reply = new ReplyLog();
  replies.set(key, reply);
  c.set("replyLog", reply);
  try {
    await next();
  } finally {
    reply.abandon();
    if (!(await reply.streaming)) {
      if (replies.get(key) === reply) replies.delete(key);
    } else {
      // Tells the client that this reply outlives its connection: attach again to get the rest.
      c.res.headers.set("X-Reply-Resumable", "true");
      // Generated to its end whether or not anyone still listens.
      keepAlive.watch();
    }
  }
};

const turns = new Hono<AppEnv>()
  .use(requestId)
  .use(async (c, next) => {
    c.set("timing", new ServerTiming());
    c.set("config", loadConfig(c.env));
    c.set("caller", given.get(c.req.raw)!.caller);
    await next();
  })
  .use(attachOrRecord)
  .route("/v1/chat/completions", chatRoutes)
  .onError(errorResponse);

/**
 * One per session (RESUMABLE_REPLIES): runs the session's widget chat turns, so each turn's
 * generation belongs to the session, not to the connection that asked for it. When a phone drops
 * off the network mid-reply, the object goes on reading the model and saves the turn, and the
 * widget, back online, retries with the same Idempotency-Key and Last-Event-ID and gets the rest
 * of the same reply as it is generated.
 */
export class SessionTurns extends DurableObject<Env> {
  private readonly replies = new Map<string, ReplyLog>();
  private readonly keepAlive = new KeepAlive(this.ctx.storage, { busy: () => [...this.replies.values()].some((reply) => reply.ended === undefined) });

  /** A chat turn from the front door, which authenticated `caller`. */
  async turn(request: Request, caller: Caller): Promise<Response> {
    given.set(request, { caller, replies: this.replies, keepAlive: this.keepAlive });
    const answer = await turns.fetch(request, this.env, { waitUntil: (work) => this.ctx.waitUntil(work), passThroughOnException: () => {}, props: {} });
    if (!answer.body) return answer;
    // Through a stream of the runtime's own: a client that drops off the network then fails this
    // pipe, where it is logged as what it is, not as an uncaught error of the runtime's pump. The
    // reply itself goes on (its log never waits for a client).
    const { readable, writable } = new IdentityTransformStream();
    const id = answer.headers.get("X-Request-Id");
    answer.body.pipeTo(writable).catch(() => log("info", "client_gone", { request_id: id }));
    return new Response(readable, answer);
  }

  override async alarm(): Promise<void> {
    await this.keepAlive.beat();
  }
}
