import { Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { userOf } from "../auth/caller";
import { InvalidRequestError, NotFoundError } from "../http/errors";
import { validId } from "../http/ids";
import { sessionStore } from "../memory/session-store";
import { readerOfSession } from "../turn/session-reader";

const iso = (ms: number) => new Date(ms).toISOString();

function pageSize(raw: string | undefined): number {
  if (raw === undefined) return 100;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new InvalidRequestError("limit must be an integer from 1 to 1000.", { param: "limit" });
  }
  return limit;
}

/** The user's sessions. A session of another user is indistinguishable from one that never existed. */
export const sessionRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const user = userOf(c.get("caller"));
    const sessions = await sessionStore(c.get("config")).list(user, pageSize(c.req.query("limit")));
    return c.json({
      object: "list",
      data: sessions.map((s) => ({ id: s.id, object: "session", last_active_at: iso(s.lastActiveAt), expires_at: iso(s.expiresAt) })),
    });
  })
  .get("/:id", async (c) => {
    const user = userOf(c.get("caller"));
    const id = validId(c.req.param("id"), "session_id");
    const config = c.get("config");
    // A widget restoring, or completing a reply its connection dropped, must see the turn it just had.
    const redis = await readerOfSession(c, user, id);
    const session = await sessionStore(config, redis).get(user, id);
    if (!session) throw new NotFoundError(`No session '${id}'.`, { param: "session_id" });
    return c.json({
      id: session.id,
      object: "session",
      messages: session.messages,
      summary: session.summary,
      // How many of the listed messages, from the first, the summary stands for (the window no longer shows them).
      summary_covers: session.summaryCovers,
      expires_at: iso(session.expiresAt),
    });
  })
  .delete("/:id", async (c) => {
    const user = userOf(c.get("caller"));
    const id = validId(c.req.param("id"), "session_id");
    if (!(await sessionStore(c.get("config")).remove(user, id))) throw new NotFoundError(`No session '${id}'.`, { param: "session_id" });
    return c.json({ id, object: "session", deleted: true });
  });
