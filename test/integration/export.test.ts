import { afterAll, describe, expect, it } from "vitest";
import { injectFault } from "../../dev/fault-proxy";
import { directRedis, errorOf, proxyFetch, stack, uniqueId } from "../support/context";

const redis = directRedis();
afterAll(() => redis.quit());

const chat = (user: string, session: string, content: string) =>
  proxyFetch("/v1/chat/completions", {
    method: "POST",
    user,
    headers: { "X-Session-Id": session },
    body: JSON.stringify({ model: "mock-small", messages: [{ role: "user", content }] }),
  });

interface Export {
  object: string;
  user: string;
  exported_at: string;
  profile: { preferences: Record<string, unknown>; updated_at: string | null };
  sessions: Array<{ id: string; last_active_at: string; expires_at: string; summary: string | null; messages: Array<{ role: string; content: string }> }>;
}

type Page = Omit<Export, "sessions"> & {
  sessions: Array<Export["sessions"][number] & { continued?: boolean; has_more_messages?: boolean }>;
  has_more: boolean;
  next_cursor: string | null;
};

/** A session laid down in Redis as the worker stores one, with older messages already trimmed away. */
async function seed(user: string, session: string, count: number, bytes: number, lastActiveAt: number): Promise<void> {
  const key = `session:{${user}}:{${session}}`;
  const content = (n: number) => `${session} ${n} `.padEnd(bytes, "x");
  await redis.batch([
    ...Array.from({ length: count }, (_, n) => ["RPUSH", key, JSON.stringify({ role: n % 2 ? "assistant" : "user", content: content(n) })]),
    ["EXPIRE", key, 3600],
    // Positions count from everything the session ever appended.
    ["SET", `${key}:appended`, count + 10, "EX", 3600],
    ["ZADD", `sessions:{${user}}`, lastActiveAt, session],
  ]);
}

/** Every page of the user's export, following next_cursor. */
async function exportPages(user: string): Promise<Page[]> {
  const pages: Page[] = [];
  let cursor: string | null = null;
  do {
    const res = await proxyFetch(`/v1/profile/export${cursor ? `?cursor=${cursor}` : ""}`, { user });
    expect(res.status).toBe(200);
    const text = await res.text();
    // At most a page's 2 MiB of stored messages and one message more (every page holds at least one).
    expect(text.length).toBeLessThan(2 * 1024 * 1024 + 60_000);
    const page = JSON.parse(text) as Page;
    expect(page.has_more).toBe(page.next_cursor !== null);
    pages.push(page);
    cursor = page.next_cursor;
  } while (cursor && pages.length < 20);
  return pages;
}

describe("GET /v1/profile/export", () => {
  it("returns everything stored about the caller: the profile and every live session, on one page when it fits", async () => {
    const user = uniqueId("export");
    const other = uniqueId("export-other");
    await proxyFetch("/v1/profile", { method: "PUT", user, body: JSON.stringify({ preferences: { city: "Porto" } }) });
    expect((await chat(user, "trip", "I am going to Lisbon")).status).toBe(200);
    expect((await chat(user, "trip", "for a week")).status).toBe(200);
    expect((await chat(user, "work", "draft an email")).status).toBe(200);
    expect((await chat(user, "gone", "forget this")).status).toBe(200);
    expect((await proxyFetch("/v1/sessions/gone", { method: "DELETE", user })).status).toBe(200);
    expect((await chat(other, "trip", "someone else's secret")).status).toBe(200);

    const res = await proxyFetch("/v1/profile/export", { user });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("application/json");
    const text = await res.text();
    expect(text).not.toContain("someone else's secret");
    const doc = JSON.parse(text) as Export;
    expect(doc).toMatchObject({ object: "export", user, profile: { preferences: { city: "Porto" } } });
    expect(Date.parse(doc.exported_at)).toBeGreaterThan(Date.now() - 60_000);
    expect(doc.sessions.map((s) => s.id)).toEqual(["trip", "work"]); // least recently active first
    expect(doc).toMatchObject({ has_more: false, next_cursor: null });
    const trip = doc.sessions[0]!;
    expect(trip.messages.map((m) => m.role)).toEqual(["user", "assistant", "user", "assistant"]);
    expect(trip.messages[0]!.content).toBe("I am going to Lisbon");
    expect(trip.summary).toBeNull();
    expect(Date.parse(trip.expires_at)).toBeGreaterThan(Date.parse(trip.last_active_at));
  });

  it("holds a conversation created without items, which the session API shows too", async () => {
    const user = uniqueId("export-empty-conversation");
    const created = await proxyFetch("/v1/conversations", { method: "POST", user, body: JSON.stringify({ metadata: { topic: "lisbon" } }) });
    const { id } = (await created.json()) as { id: string };
    expect(((await (await proxyFetch("/v1/sessions", { user })).json()) as { data: Array<{ id: string }> }).data.map((s) => s.id)).toEqual([id]);
    const session = await proxyFetch(`/v1/sessions/${id}`, { user });
    expect(session.status).toBe(200);
    const shown = (await session.json()) as { id: string; messages: unknown[]; expires_at: string };
    expect(shown).toMatchObject({ id, messages: [] });
    expect(Date.parse(shown.expires_at)).toBeGreaterThan(Date.now());
    const items = await proxyFetch(`/v1/conversations/${id}/items`, { user });
    expect(await items.json()).toMatchObject({ object: "list", data: [] });
    const doc = (await (await proxyFetch("/v1/profile/export", { user })).json()) as Export & { sessions: Array<{ conversation_metadata: unknown }> };
    expect(doc.sessions).toEqual([expect.objectContaining({ id, messages: [], conversation_metadata: { topic: "lisbon" } })]);
    expect(Date.parse(doc.sessions[0]!.expires_at)).toBeGreaterThan(Date.now());
  });

  it("is an empty document for a user with nothing stored", async () => {
    const user = uniqueId("export-empty");
    const doc = (await (await proxyFetch("/v1/profile/export", { user })).json()) as Export;
    expect(doc).toMatchObject({ object: "export", user, profile: { preferences: {}, updated_at: null }, sessions: [] });
  });

  it("pages by bytes, whatever the sessions hold: every message once, in order, a session cut by a page going on in the next", async () => {
    const user = uniqueId("export-pages");
    // Three sessions of 1.2 MB, 3.6 MB and 30 bytes: more than one page, and a session larger than a page.
    const sizes: Array<[string, number, number]> = [["old", 24, 50_000], ["big", 72, 50_000], ["tiny", 1, 30]];
    for (const [i, [session, count, bytes]] of sizes.entries()) await seed(user, session, count, bytes, Date.now() - 1000 + i);

    const pages = await exportPages(user);
    expect(pages.length).toBeGreaterThanOrEqual(3);
    expect(pages[0]!.profile).toEqual({ preferences: {}, updated_at: null });
    expect(pages.slice(1).every((page) => page.profile === undefined)).toBe(true);

    // Put back together by id, each session's parts are what it stores, whole and in order.
    const parts = pages.flatMap((page) => page.sessions);
    expect([...new Set(parts.map((part) => part.id))]).toEqual(["old", "big", "tiny"]);
    for (const [session, count, bytes] of sizes) {
      const mine = parts.filter((part) => part.id === session);
      expect(mine.map((part) => Boolean(part.continued))).toEqual(mine.map((_, i) => i > 0));
      expect(mine.map((part) => Boolean(part.has_more_messages))).toEqual(mine.map((_, i) => i < mine.length - 1));
      const contents = mine.flatMap((part) => part.messages.map((m) => m.content));
      expect(contents).toEqual(Array.from({ length: count }, (_, n) => `${session} ${n} `.padEnd(bytes, "x")));
    }
    expect(parts.filter((part) => part.id === "big").length).toBeGreaterThan(1);
  });

  it("goes on after a session that became active between pages, and refuses a cursor it did not write", async () => {
    const user = uniqueId("export-active");
    await seed(user, "a", 45, 50_000, Date.now() - 1000); // 2.25 MB: the first page ends inside it
    for (const session of ["b", "c"]) expect((await chat(user, session, `hello ${session}`)).status).toBe(200);
    const bad = await proxyFetch("/v1/profile/export?cursor=bm90LWEtY3Vyc29y", { user });
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatchObject({ param: "cursor", code: "invalid_cursor" });

    const first = (await (await proxyFetch("/v1/profile/export", { user })).json()) as Page;
    expect(first.sessions.map((s) => [s.id, s.has_more_messages])).toEqual([["a", true]]);
    // "b" is active again before the next page: it moved behind "c", and is still exported.
    expect((await chat(user, "b", "back again")).status).toBe(200);
    const next = (await (await proxyFetch(`/v1/profile/export?cursor=${first.next_cursor}`, { user })).json()) as Page;
    expect(next.sessions.map((s) => [s.id, s.continued ?? false])).toEqual([["a", true], ["c", false], ["b", false]]);
    expect(next.sessions[2]!.messages.map((m) => m.content)).toContain("back again");
    expect(first.sessions[0]!.messages.length + next.sessions[0]!.messages.length).toBe(45);
    expect(next).toMatchObject({ has_more: false, next_cursor: null });
  });

  it("fails whole (503) rather than leave out what it could not read", async () => {
    const user = uniqueId("export-down");
    expect((await chat(user, "s", "hello")).status).toBe(200);
    await injectFault(stack().cosmosFaultProxyUrl, { match: user, mode: "error" });
    const cosmosDown = await proxyFetch("/v1/profile/export", { user });
    expect(cosmosDown.status).toBe(503);
    expect(await errorOf(cosmosDown)).toMatchObject({ code: "profile_unavailable" });
  });
});
