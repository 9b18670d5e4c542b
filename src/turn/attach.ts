import type { Context, MiddlewareHandler } from "hono";
import { userOf } from "../auth/caller";
import { InvalidRequestError } from "../http/errors";
import { keys } from "../redis/keys";
import { redisClient, withRedis } from "../redis/client";
import { idempotencyKey } from "./idempotency-key";
import { ReplyLog } from "./reply-log";
import type { TurnEnv } from "./turn-env";

/** How long a finished reply can still be attached to; after it, a retry gets the saved turn instead. */
const KEEP_FINISHED_MS = 60_000;

export interface AttachOptions {
  /** The session's streamed replies by Idempotency-Key: the object's memory, shared by its requests. */
  replies: Map<string, ReplyLog>;
}

/** `Last-Event-ID`: the last piece of a reply the client has (0: none yet), or undefined if it is not resuming a stream. */
function lastEventId(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  if (!/^\d{1,9}$/.test(header.trim())) {
    throw new InvalidRequestError("Last-Event-ID must be an event id this proxy sent (a whole number).", { param: "Last-Event-ID", code: "invalid_last_event_id" });
  }
  return Number(header.trim());
}

function attached(c: Context<TurnEnv>, reply: ReplyLog, after: number): Response {
  return c.body(reply.read(after), 200, {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    // The front door checked it before it chose this object.
    "X-Session-Id": c.req.header("X-Session-Id") ?? "",
    "X-Reply-Resumable": "true",
    "X-Reply-Resumed": "true",
  });
}

/**
 * Whether the session still holds the turn of `key`, committed or in flight. A session delete or an
 * erasure removes both, and the log in this object's memory must not outlive them: without this
 * check a widget's resume re-streamed an erased reply for up to KEEP_FINISHED_MS. One Upstash
 * request, and only on a resume.
 */
async function stillStored(c: Context<TurnEnv>, key: string): Promise<boolean> {
  const user = userOf(c.get("caller"));
  const session = c.req.header("X-Session-Id") ?? "";
  const [committed, claimed] = await withRedis("attach", () =>
    redisClient(c.get("config")).pipeline().hexists(keys.turns(user, session), key).hexists(keys.claims(user, session), key).exec<[number, number]>(),
  );
  return Number(committed) === 1 || Number(claimed) === 1;
}

/**
 * Retries of a session's streamed replies, in its Durable Object. A request with the
 * Idempotency-Key of a reply that is streaming (or streamed a moment ago) and a Last-Event-ID
 * attaches to it: the pieces after that id, then the rest as it comes, from the one generation,
 * saved once. A retry that is not resuming a stream (a JSON client's) waits for that reply and is
 * answered as any retry of a saved turn is. A reply that failed, or a first attempt that ended
 * before streaming, leaves the retry to run the turn; several such retries run it once, the rest
 * wait for that one. Any other request records its streamed reply here for such retries.
 */
export function attachOrRecord({ replies }: AttachOptions): MiddlewareHandler<TurnEnv> {
  return async (c, next) => {
    const now = Date.now();
    for (const [key, reply] of replies) if (reply.ended !== undefined && now - reply.ended > KEEP_FINISHED_MS) replies.delete(key);

    const key = idempotencyKey(c.req.header("Idempotency-Key"));
    if (key === undefined) return next();
    const resumeAfter = lastEventId(c.req.header("Last-Event-ID"));
    for (let running = replies.get(key); running; running = replies.get(key)) {
      if ((await running.streaming) && !running.failed) {
        if (resumeAfter === undefined) {
          await running.done;
          if (!running.failed) return next(); // saved: the turn answers with its replay
        } else if (await stillStored(c, key)) {
          return attached(c, running, resumeAfter);
        }
      }
      // Nothing to attach to (or nothing the session still holds): forget it, and run the turn
      // (unless another retry has begun to).
      if (replies.get(key) === running) replies.delete(key);
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
        // This reply outlives its connection: the client may attach again to get the rest.
        c.res.headers.set("X-Reply-Resumable", "true");
      }
    }
  };
}
