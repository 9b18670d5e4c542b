import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import type { Caller } from "../auth/caller";
import { loadConfig, type Env } from "../config";
import { errorResponse } from "../http/error-response";
import { log } from "../http/log";
import { requestId } from "../http/request-id";
import { ServerTiming } from "../http/server-timing";
import { attachOrRecord } from "./attach";
import { chatRoutes } from "./handler";
import { KeepAlive } from "./keep-alive";
import type { ReplyLog } from "./reply-log";

/** Who asked, as the front door authenticated them: handed over with the request, never read from it. */
const callers = new WeakMap<Request, Caller>();

/**
 * One per session (RESUMABLE_REPLIES): runs the session's widget chat turns, so each turn's
 * generation belongs to the session, not to the connection that asked for it. When a phone drops
 * off the network mid-reply, the object goes on reading the model and saves the turn, and the
 * widget, back online, retries with the same Idempotency-Key and Last-Event-ID and gets the rest
 * of the same reply as it is generated.
 */
export class SessionTurns extends DurableObject<Env> {
  /** What turns go on doing after their answer began: the rest of a reply, its save, summaries. */
  private readonly working = new Set<Promise<unknown>>();
  private readonly keepAlive = new KeepAlive(this.ctx.storage, { busy: () => this.working.size > 0 });
  private readonly app = new Hono<AppEnv>()
    .use(requestId)
    .use(async (c, next) => {
      c.set("timing", new ServerTiming());
      c.set("config", loadConfig(c.env));
      const caller = callers.get(c.req.raw);
      if (!caller) throw new Error("a turn reached the session's object without its caller");
      c.set("caller", caller);
      await next();
    })
    .use(attachOrRecord({ replies: new Map<string, ReplyLog>() }))
    .route("/v1/chat/completions", chatRoutes)
    .onError(errorResponse);

  /** A chat turn from the front door, which authenticated `caller`. */
  async turn(request: Request, caller: Caller): Promise<Response> {
    callers.set(request, caller);
    const answer = await this.app.fetch(request, this.env, { waitUntil: (work) => this.keep(work), passThroughOnException: () => {}, props: {} });
    // A reply log's stream (a resumable reply's, X-Reply-Resumable) is made in JavaScript: it goes
    // out through a stream of the runtime's own, so a client that drops off the network fails this
    // pipe, where it is logged as what it is, not as an uncaught error of the runtime's pump. The
    // reply itself goes on (its log never waits for a client). Other bodies are the runtime's
    // already, and it refuses to pipe one of its streams into another.
    if (!answer.body || answer.headers.get("X-Reply-Resumable") !== "true") return answer;
    const { readable, writable } = new IdentityTransformStream();
    const id = answer.headers.get("X-Request-Id");
    answer.body.pipeTo(writable).catch(() => log("info", "client_gone", { request_id: id }));
    return new Response(readable, answer);
  }

  override async alarm(): Promise<void> {
    await this.keepAlive.beat();
  }

  /** Work that outlives its answer runs to its end, kept alive if it takes long. */
  private keep(work: Promise<unknown>): void {
    this.working.add(work);
    work.then(
      () => this.working.delete(work),
      () => this.working.delete(work),
    );
    this.keepAlive.watch();
    this.ctx.waitUntil(work);
  }
}
