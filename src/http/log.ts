type Level = "debug" | "info" | "warn" | "error";

/**
 * One JSON line per event, for Workers Logs. Fields are ids, counts, codes and durations: never
 * message content (unless LOG_CONTENT is on, and then only where the caller passes it), never
 * a secret, never a stack.
 */
export function log(level: Level, event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** What may be logged of an unexpected error: its name and the first line of its message, shortened. */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return "non-error thrown";
  return `${error.name}: ${error.message.split("\n")[0]!.slice(0, 160)}`;
}
