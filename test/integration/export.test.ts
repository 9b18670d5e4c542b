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

describe("GET /v1/profile/export", () => {
  it("returns everything stored about the caller in one document: the profile and every live session", async () => {
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
    expect(doc.sessions.map((s) => s.id)).toEqual(["work", "trip"]); // most recently active first
    const trip = doc.sessions[1]!;
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

  it("fails whole (503) rather than leave out what it could not read", async () => {
    const user = uniqueId("export-down");
    expect((await chat(user, "s", "hello")).status).toBe(200);
    await injectFault(stack().cosmosFaultProxyUrl, { match: user, mode: "error" });
    const cosmosDown = await proxyFetch("/v1/profile/export", { user });
    expect(cosmosDown.status).toBe(503);
    expect(await errorOf(cosmosDown)).toMatchObject({ code: "profile_unavailable" });
  });
});
