import type { MiddlewareHandler } from "hono";
import { withRequestId } from "./log";

const TRUSTED_ID = /^[A-Za-z0-9._:-]{8,128}$/;

/**
 * Every response, errors included, carries X-Request-Id, and every log line of the request its id.
 * A well-formed id from the caller is kept so a client can correlate its own logs; anything else is
 * replaced.
 */
export const requestId: MiddlewareHandler<{ Variables: { requestId: string } }> = async (c, next) => {
  const incoming = c.req.header("X-Request-Id");
  const id = incoming && TRUSTED_ID.test(incoming) ? incoming : `req_${crypto.randomUUID().replaceAll("-", "")}`;
  c.set("requestId", id);
  c.header("X-Request-Id", id);
  await withRequestId(id, next);
};
