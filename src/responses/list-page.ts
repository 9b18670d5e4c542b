import { InvalidRequestError } from "../http/errors";
import type { ListedItem } from "./items";

export interface PageQuery {
  limit?: string | undefined;
  order?: string | undefined;
  after?: string | undefined;
}

/** A page of items as OpenAI lists them: `limit` (1-100, 20), `order` (desc by default), after an id. */
export function pageOf(items: readonly ListedItem[], query: PageQuery) {
  const limit = query.limit === undefined ? 20 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new InvalidRequestError("limit must be an integer from 1 to 100.", { param: "limit" });
  const order = query.order ?? "desc";
  if (order !== "asc" && order !== "desc") throw new InvalidRequestError("order must be 'asc' or 'desc'.", { param: "order" });
  const sorted = order === "asc" ? [...items] : [...items].reverse();
  const start = query.after === undefined ? 0 : sorted.findIndex((item) => item.id === query.after) + 1;
  if (query.after !== undefined && start === 0) throw new InvalidRequestError(`No item '${query.after.slice(0, 80)}' in this list.`, { param: "after" });
  const data = sorted.slice(start, start + limit);
  return { object: "list" as const, data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: start + limit < sorted.length };
}
