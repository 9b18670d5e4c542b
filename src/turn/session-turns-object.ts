import { DurableObject } from "cloudflare:workers";
import { Hono } from "hono";
import type { Caller } from "../auth/caller";
import { loadConfig, type Env } from "../config";
import { errorResponse } from "../http/error-response";
import { requestId } from "../http/request-id";
import { ServerTiming } from "../http/server-timing";
import { attachOrRecord } from "./attach";
import { KeepAlive } from "./keep-alive";
import type { ReplyLog } from "./reply-log";
import type { TurnEnv } from "./turn-env";

/** Who asked, as the front door authenticated them: handed over with the request, never read from it. */
const callers = new WeakMap<Request, Caller>();

/**
 * One per session (RESUMABLE_REPLIES): runs the session's widget chat turns, so each turn's
 * generation belongs to the session, not to the connection that asked for it. When a phone drops
 * off the network mid-reply, the object goes on reading the model and saves the turn, and the
 * widget, back online, retries with the same Idempotency-Key and Last-Event-ID and gets the rest
 * of the same reply as it is generated. `routes` is the front door whose turns it runs (Chat
 * Completions), handed in by the worker so that the turn imports no front door.
 */
export function sessionTurnsObject(routes: Hono<TurnEnv>) {
  return class SessionTurns extends DurableObject<Env> {
    /** What turns go on doing after their answer began: the rest of a reply, its save, summaries. */
    private readonly working = new Set<Promise<unknown>>();
    private readonly keepAlive = new KeepAlive(this.ctx.storage, { busy: () => this.working.size > 0 });
    private readonly app = new Hono<TurnEnv>()
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
      .route("/v1/chat/completions", routes)
      .onError(errorResponse);

    /** A chat turn from the front door, which authenticated `caller`. */
    async turn(request: Request, caller: Caller): Promise<Response> {
      callers.set(request, caller);
      return this.app.fetch(request, this.env, { waitUntil: (work) => this.keep(work), passThroughOnException: () => {}, props: {} });
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
  };
}
