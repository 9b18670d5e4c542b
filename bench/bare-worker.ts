/**
 * The baseline: a Hono worker that forwards a chat completion to the upstream and streams the
 * answer back, with nothing else. What any proxy on Workers costs at the least.
 */
import { Hono } from "hono";

interface Env {
  OPENAI_BASE_URL: string;
  OPENAI_API_KEY: string;
}

const app = new Hono<{ Bindings: Env }>();

app.post("/v1/chat/completions", async (c) => {
  const upstream = await fetch(`${c.env.OPENAI_BASE_URL}/chat/completions`, {
    method: "POST",
    headers: { Authorization: `Bearer ${c.env.OPENAI_API_KEY}`, "Content-Type": "application/json" },
    body: c.req.raw.body,
  });
  return new Response(upstream.body, { status: upstream.status, headers: { "Content-Type": upstream.headers.get("Content-Type") ?? "application/json" } });
});

export default app;
