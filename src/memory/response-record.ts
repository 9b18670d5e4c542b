import * as z from "zod/mini";
import { storedJson } from "./stored-json";

/** A response as the Responses API shows it, and the input items that asked for it. */
const record = () =>
  z.object({
    response: z.looseObject({ id: z.string(), object: z.literal("response") }),
    input_items: z.array(z.looseObject({ type: z.string() })),
  });

export type StoredResponse = z.infer<ReturnType<typeof record>>;

export function serializeResponse(value: StoredResponse): string {
  return JSON.stringify(value);
}

/** A record read back from Redis, or undefined when it is not one (the response is then treated as gone). */
export const parseResponseRecord = storedJson(record);
