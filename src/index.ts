import "./http/zod-messages";
import { Hono } from "hono";
import type { AppEnv } from "./auth/app-env";
import { authenticate } from "./auth/middleware";
import { chatRoutes } from "./chat/handler";
import { inSessionObject } from "./turn/session-turns";
import { loadConfig } from "./config";
import { corsForWidgets } from "./http/cors";
import { errorResponse } from "./http/error-response";
import { NotFoundError } from "./http/errors";
import { requestId } from "./http/request-id";
import { ServerTiming } from "./http/server-timing";
import { limitPerUser } from "./rate-limit/middleware";
import { healthRoutes } from "./routes/health";
import { modelRoutes } from "./routes/models";
import { profileRoutes } from "./routes/profile";
import { conversationRoutes } from "./responses/conversations";
import { responseRoutes } from "./responses/handler";
import { sessionRoutes } from "./routes/sessions";
import { memoryRoutes } from "./routes/memories";
import { sessionTurnsObject } from "./turn/session-turns-object";
import { tokenRoutes } from "./routes/tokens";

const app = new Hono<AppEnv>();

app.use(requestId);
app.use(async (c, next) => {
  const timing = new ServerTiming();
  c.set("timing", timing);
  c.set("config", loadConfig(c.env));
  await next();
  // Chat sets its own (it knows when its headers leave); everything else reports what it measured.
  if (!c.res.headers.has("Server-Timing") && timing.header()) c.res.headers.set("Server-Timing", timing.header());
});
// Before authentication: a browser's preflight carries no credentials.
app.use("/v1/*", corsForWidgets<AppEnv>({ origins: (c) => c.get("config").allowedOrigins }));

app.route("/", healthRoutes);

app.use("/v1/*", authenticate);
app.use("/v1/chat/completions", inSessionObject);
app.route("/v1/chat/completions", chatRoutes);
// POST /v1/responses is a turn (rate-limited with its memory load); its other routes limit themselves.
app.route("/v1/responses", responseRoutes);
app.use("/v1/models/*", limitPerUser);
app.route("/v1/models", modelRoutes);
app.route("/v1/tokens", tokenRoutes);
app.use("/v1/sessions/*", limitPerUser);
app.use("/v1/profile/*", limitPerUser);
app.use("/v1/conversations/*", limitPerUser);
app.use("/v1/memories/*", limitPerUser);
app.route("/v1/sessions", sessionRoutes);
app.route("/v1/profile", profileRoutes);
app.route("/v1/conversations", conversationRoutes);
app.route("/v1/memories", memoryRoutes);

app.notFound((c) => errorResponse(new NotFoundError(`No route for ${c.req.method} ${new URL(c.req.url).pathname}.`), c));
app.onError(errorResponse);

export default app;
export { SessionSync } from "./turn/session-sync-object";
export const SessionTurns = sessionTurnsObject(chatRoutes);
