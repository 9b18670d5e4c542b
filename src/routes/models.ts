import { Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { toUpstreamError } from "../upstream/errors";
import { upstreamClient } from "../upstream/client";

/** GET /v1/models: ALLOWED_MODELS when set, otherwise whatever the upstream offers. */
export const modelRoutes = new Hono<AppEnv>().get("/", async (c) => {
  const config = c.get("config");
  if (config.upstream.allowedModels.length > 0) {
    return c.json({
      object: "list",
      data: config.upstream.allowedModels.map((id) => ({ id, object: "model", created: 0, owned_by: "concierge" })),
    });
  }
  let response: Response;
  try {
    response = await upstreamClient(config).models.list().asResponse();
  } catch (error) {
    throw toUpstreamError(error, { providerMessages: c.get("caller").kind === "api_key" });
  }
  return c.newResponse(response.body, 200, { "Content-Type": response.headers.get("Content-Type") ?? "application/json" });
});
