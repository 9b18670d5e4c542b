import { describe, expect, it } from "vitest";
import { pageOf } from "./list-page";

const items = ["a", "b", "c", "d"].map((id) => ({ id, type: "message" }));

describe("pageOf", () => {
  it.each([
    { query: {}, ids: ["d", "c", "b", "a"], more: false },
    { query: { order: "asc" }, ids: ["a", "b", "c", "d"], more: false },
    { query: { limit: "2" }, ids: ["d", "c"], more: true },
    { query: { limit: "2", after: "c" }, ids: ["b", "a"], more: false },
    { query: { order: "asc", after: "a", limit: "1" }, ids: ["b"], more: true },
  ])("$query", ({ query, ids, more }) => {
    const page = pageOf(items, query);
    expect(page.data.map((item) => item.id)).toEqual(ids);
    expect(page).toMatchObject({ object: "list", first_id: ids[0], last_id: ids.at(-1), has_more: more });
  });

  it.each([{ limit: "0" }, { limit: "101" }, { limit: "x" }, { order: "up" }, { after: "zz" }])("refuses %o", (query) => {
    expect(() => pageOf(items, query)).toThrow(expect.objectContaining({ status: 400 }));
  });
});
