import { Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { userOf } from "../auth/caller";
import { InvalidRequestError, NotFoundError } from "../http/errors";
import { forgetRecalled, parseRecalled, queryTerms, recentRecall, searchRecall, type Recalled } from "../memory/recall-index";
import { redisClient, withRedis } from "../redis/client";

/** What one memories request reads at most (the search's byte budget): far under an Upstash answer's size. */
const MAX_READ_BYTES = 512 * 1024;

function limitOf(raw: string | undefined): number {
  if (raw === undefined) return 20;
  const limit = Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new InvalidRequestError("limit must be an integer from 1 to 100.", { param: "limit" });
  return limit;
}

const shown = (memory: Recalled) => ({
  id: memory.id,
  object: "memory",
  session: memory.session,
  role: memory.role,
  text: memory.text,
  created_at: new Date(memory.at).toISOString(),
  score: memory.score,
});

/**
 * The user's own recall index (RECALL): `GET /v1/memories?query=` ranks their earlier messages as a
 * turn's recall would (without the answers a turn adds), `GET /v1/memories` lists the most recent,
 * `DELETE /v1/memories/{id}` takes one out. Another user's id is indistinguishable from none.
 */
export const memoryRoutes = new Hono<AppEnv>()
  .get("/", async (c) => {
    const user = userOf(c.get("caller"));
    const limit = limitOf(c.req.query("limit"));
    const query = c.req.query("query");
    const redis = redisClient(c.get("config"));
    const found = await withRedis("memories", async () => {
      if (query === undefined) return parseRecalled(await recentRecall(redis.pipeline(), user, limit).exec<[unknown]>().then(([raw]) => raw));
      const terms = queryTerms(query);
      if (terms.length === 0) return [];
      const [raw] = await searchRecall(redis.pipeline(), { user, exclude: undefined, terms, budgetBytes: MAX_READ_BYTES, maxHits: limit, answers: false }).exec<[unknown]>();
      return parseRecalled(raw);
    });
    return c.json({ object: "list", data: found.slice(0, limit).map(shown) });
  })
  .delete("/:id", async (c) => {
    const user = userOf(c.get("caller"));
    const id = c.req.param("id");
    if (!/^\d{1,15}$/.test(id)) throw new NotFoundError(`No memory '${id.slice(0, 64)}'.`, { param: "memory_id" });
    const [forgotten] = await withRedis("memories", () => forgetRecalled(redisClient(c.get("config")).pipeline(), user, id).exec<[number]>());
    if (Number(forgotten) !== 1) throw new NotFoundError(`No memory '${id}'.`, { param: "memory_id" });
    return c.json({ id, object: "memory", deleted: true });
  });
