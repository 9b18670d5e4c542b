import { afterAll, describe, expect, it } from "vitest";
import { directRedis, keysOf, openaiFor, proxyFetch, uniqueId } from "../support/context";

const redis = directRedis();
afterAll(() => redis.quit());

async function talk(user: string, session: string, content: string) {
  await openaiFor(user, { "X-Session-Id": session }).chat.completions.create({ model: "mock-small", messages: [{ role: "user", content }] });
}

describe("the session API", () => {
  it("lists a user's sessions newest first, with last activity and expiry", async () => {
    const user = uniqueId("list");
    await talk(user, "older", "one");
    await talk(user, "newer", "two");
    const res = await proxyFetch("/v1/sessions", { user });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { object: string; data: Array<{ id: string; last_active_at: string; expires_at: string }> };
    expect(body.object).toBe("list");
    expect(body.data.map((s) => s.id)).toEqual(["newer", "older"]);
    for (const s of body.data) {
      const lastActive = Date.parse(s.last_active_at);
      expect(Math.abs(lastActive - Date.now())).toBeLessThan(60_000);
      expect(Date.parse(s.expires_at) - lastActive).toBe(3600 * 1000);
    }
  });

  it("returns a session's stored messages and its expiry", async () => {
    const user = uniqueId("get");
    await talk(user, "s1", "remember the milk");
    const res = await proxyFetch("/v1/sessions/s1", { user });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { id: string; messages: Array<{ role: string; content: string }>; summary: null; expires_at: string };
    expect(body.id).toBe("s1");
    expect(body.messages.map((m) => m.role)).toEqual(["user", "assistant"]);
    expect(body.messages[0]!.content).toBe("remember the milk");
    expect(body.summary).toBeNull();
    const left = Date.parse(body.expires_at) - Date.now();
    expect(left).toBeGreaterThan(3500 * 1000);
    expect(left).toBeLessThanOrEqual(3600 * 1000 + 1000);
  });

  it("forgets a session, after which it is 404 and gone from the list and from Redis", async () => {
    const user = uniqueId("delete");
    await talk(user, "doomed", "x");
    await talk(user, "kept", "y");
    const res = await proxyFetch("/v1/sessions/doomed", { user, method: "DELETE" });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: "doomed", object: "session", deleted: true });
    expect((await proxyFetch("/v1/sessions/doomed", { user })).status).toBe(404);
    expect((await proxyFetch("/v1/sessions/doomed", { user, method: "DELETE" })).status).toBe(404);
    const list = (await (await proxyFetch("/v1/sessions", { user })).json()) as { data: Array<{ id: string }> };
    expect(list.data.map((s) => s.id)).toEqual(["kept"]);
    expect(await keysOf(redis, user)).toEqual([`profile:{${user}}`, `session:{${user}}:{kept}`, `session:{${user}}:{kept}:appended`, `sessions:{${user}}`]);
  });

  it("treats another user's session as one that does not exist", async () => {
    const owner = uniqueId("owner");
    const intruder = uniqueId("intruder");
    await talk(owner, "private", "my secret plan");
    for (const [method, path] of [
      ["GET", "/v1/sessions/private"],
      ["DELETE", "/v1/sessions/private"],
    ] as const) {
      const res = await proxyFetch(path, { user: intruder, method });
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain("secret");
    }
    const list = (await (await proxyFetch("/v1/sessions", { user: intruder })).json()) as { data: unknown[] };
    expect(list.data).toEqual([]);
    // And continuing it writes only into the intruder's own namespace.
    await talk(intruder, "private", "hijack");
    const owners = await redis.lrange(`session:{${owner}}:{private}`, 0, -1);
    expect(owners.map((m) => JSON.parse(m).content)).not.toContain("hijack");
    expect(owners).toHaveLength(2);
  });

  it("needs a user and a valid id", async () => {
    expect((await proxyFetch("/v1/sessions")).status).toBe(400);
    expect((await proxyFetch("/v1/sessions/bad%20id", { user: "u1" })).status).toBe(400);
    expect((await proxyFetch("/v1/sessions", { user: "u1", headers: { Authorization: "Bearer wrong" } })).status).toBe(401);
  });
});

describe("headers on every response", () => {
  it("carries X-Request-Id and Server-Timing on API responses and errors alike", async () => {
    for (const res of [await proxyFetch("/v1/sessions", { user: "u1" }), await proxyFetch("/v1/sessions/none", { user: "u1" })]) {
      expect(res.headers.get("x-request-id")).toMatch(/^req_/);
      expect(res.headers.get("server-timing")).toMatch(/auth;dur=/);
    }
  });

  it("names the session on a chat error too", async () => {
    const res = await proxyFetch("/v1/chat/completions", {
      method: "POST",
      user: uniqueId("err"),
      headers: { "X-Session-Id": "named" },
      body: JSON.stringify({ model: "mock-small", messages: [{ role: "user", content: "[mock:status=500]" }] }),
    });
    expect(res.status).toBe(502);
    expect(res.headers.get("x-session-id")).toBe("named");
  });
});
