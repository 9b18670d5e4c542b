import { Hono } from "hono";
import { describe, expect, it } from "vitest";
import { corsForWidgets } from "./cors";

const SHOP = "https://shop.example.test";
/** One array for every request, as the worker's config is one per isolate. */
const ORIGINS = [SHOP];

/** The middleware as the worker runs it: after a header set for every response, before a route. */
function appWith(route: (app: Hono) => void): Hono {
  const app = new Hono();
  app.use(async (c, next) => {
    c.header("X-Request-Id", "req_1");
    await next();
  });
  app.use("*", corsForWidgets({ origins: () => ORIGINS }));
  route(app);
  return app;
}

const routes = {
  "a route answering through the context": (app: Hono) => app.get("/", (c) => c.json({ ok: true })),
  "a route passing on a Response (as the front door does the session object's)": (app: Hono) => app.get("/", (c) => c.newResponse("{}", new Response("{}", { status: 201, headers: { "X-Own": "1" } }))),
};

describe("corsForWidgets", () => {
  describe.each(Object.entries(routes))("%s", (_, route) => {
    const app = appWith(route);

    it.each([
      ["no Origin (a backend)", {}, null],
      ["an allowed Origin", { Origin: SHOP }, SHOP],
      ["another Origin", { Origin: "https://evil.example.test" }, null],
    ])("%s: grants %s, and keeps the headers set before it", async (_, headers, granted) => {
      const res = await app.request("/", { headers });
      expect(res.headers.get("Access-Control-Allow-Origin")).toBe(granted);
      expect(res.headers.get("Access-Control-Expose-Headers")?.includes("X-Session-Id") ?? false).toBe("Origin" in headers);
      expect(res.headers.get("Vary")).toBe("Origin");
      expect(res.headers.get("X-Request-Id")).toBe("req_1");
    });
  });

  it("answers an allowed origin's preflight, and no other's", async () => {
    const app = appWith(routes["a route answering through the context"]);
    const preflight = (origin: string) => app.request("/", { method: "OPTIONS", headers: { Origin: origin, "Access-Control-Request-Method": "POST" } });
    const allowed = await preflight(SHOP);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("Access-Control-Allow-Origin")).toBe(SHOP);
    expect(allowed.headers.get("Access-Control-Allow-Headers")).toContain("Idempotency-Key");
    expect((await preflight("https://evil.example.test")).headers.get("Access-Control-Allow-Origin")).toBeNull();
  });

  it("keeps the status and headers of a Response a route made", async () => {
    const res = await appWith(routes["a route passing on a Response (as the front door does the session object's)"]).request("/");
    expect(res.status).toBe(201);
    expect(res.headers.get("X-Own")).toBe("1");
  });
});
