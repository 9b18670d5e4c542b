import type { Context } from "hono";
import type { AppEnv } from "../auth/app-env";
import type { Turn } from "./open-turn";

/** A turn's answer: its headers (session, limits, window), the timings so far, and the body. */
export function answer(c: Context<AppEnv>, turn: Turn, contentType: string, body: string | ReadableStream<Uint8Array>): Response {
  turn.headers["Content-Type"] = contentType;
  turn.headers["Server-Timing"] = c.get("timing").header();
  return c.newResponse(body, 200, turn.headers);
}
