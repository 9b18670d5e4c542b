import type * as z from "zod/mini";

/**
 * A reader of JSON values read back from Redis: parsed against the schema `build` makes (on first
 * use, so an isolate that never reads one never builds it), or undefined when the value is not
 * one, which callers treat as absent.
 */
export function storedJson<S extends z.ZodMiniType>(build: () => S): (raw: unknown) => z.infer<S> | undefined {
  let schema: S | undefined;
  return (raw) => {
    if (typeof raw !== "string") return undefined;
    try {
      const parsed = (schema ??= build()).safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  };
}
