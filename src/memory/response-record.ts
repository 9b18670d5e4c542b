import * as z from "zod/mini";

/** A response as the Responses API shows it, and the input items that asked for it. */
const buildRecord = () =>
  z.object({
    response: z.looseObject({ id: z.string(), object: z.literal("response") }),
    input_items: z.array(z.looseObject({ type: z.string() })),
  });

// Built on first use: an isolate that serves no Responses request never builds it.
let record: ReturnType<typeof buildRecord> | undefined;

export type StoredResponse = z.infer<ReturnType<typeof buildRecord>>;

export function serializeResponse(value: StoredResponse): string {
  return JSON.stringify(value);
}

/** A record read back from Redis, or undefined when it is not one (then the response is treated as gone). */
export function parseResponseRecord(raw: unknown): StoredResponse | undefined {
  if (typeof raw !== "string") return undefined;
  try {
    const parsed = (record ??= buildRecord()).safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
