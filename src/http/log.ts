import { AsyncLocalStorage } from "node:async_hooks";

type Level = "debug" | "info" | "warn" | "error";

/**
 * The request a line belongs to. Stores deep in a turn (Redis, Cosmos) and work that outlives the
 * response (waitUntil) log without being handed the request, and the line still carries its id, so
 * the X-Request-Id of any error response leads to every line that request wrote.
 */
const requestContext = new AsyncLocalStorage<string>();

/** Runs `work` (the rest of a request) with `requestId` on every line it logs. */
export function withRequestId<T>(requestId: string, work: () => T): T {
  return requestContext.run(requestId, work);
}

/**
 * One JSON line per event, for Workers Logs. Fields are ids, counts, codes and durations: never
 * message content (unless LOG_CONTENT is on, and then only where the caller passes it), never
 * a secret, never a stack.
 */
export function log(level: Level, event: string, fields: Record<string, unknown> = {}): void {
  const requestId = requestContext.getStore();
  const line = JSON.stringify(requestId ? { level, event, request_id: requestId, ...fields } : { level, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** What may be logged of an unexpected error: its name and the first line of its message, shortened. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return "non-error thrown";
  return `${error.name}: ${error.message.split("\n")[0]!.slice(0, 160)}`;
}
