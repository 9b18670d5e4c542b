import * as z from "zod/mini";

/**
 * The Responses API's schemas, built on an isolate's first Responses request: an isolate that
 * only ever serves chat never pays for them at startup.
 */
function build() {
  // Fields arrive as null as often as absent (SDKs serialise unset options either way): nullish throughout.
  const text = z.string();
  const part = z.looseObject({ type: z.string() });

  const messageItem = z.looseObject({
    type: z.optional(z.literal("message")),
    role: z.enum(["user", "assistant", "system", "developer"]),
    content: z.union([z.string(), z.array(part)]),
    id: z.nullish(z.string()),
  });

  const functionCallItem = z.looseObject({
    type: z.literal("function_call"),
    call_id: text,
    name: text,
    arguments: text,
    id: z.nullish(z.string()),
  });

  const functionCallOutputItem = z.looseObject({
    type: z.literal("function_call_output"),
    call_id: text,
    output: z.union([z.string(), z.array(part)]),
    id: z.nullish(z.string()),
  });

  const itemReference = z.looseObject({ type: z.literal("item_reference"), id: text });


  const functionTool = z.looseObject({
    type: z.literal("function"),
    name: z.string().check(z.minLength(1), z.maxLength(128)),
    description: z.nullish(z.string()),
    parameters: z.nullish(z.record(z.string(), z.unknown())),
    strict: z.nullish(z.boolean()),
  });

  const textFormat = z.union([
    z.looseObject({ type: z.literal("text") }),
    z.looseObject({ type: z.literal("json_object") }),
    z.looseObject({
      type: z.literal("json_schema"),
      name: z.string().check(z.minLength(1), z.maxLength(64)),
      schema: z.record(z.string(), z.unknown()),
      description: z.nullish(z.string()),
      strict: z.nullish(z.boolean()),
    }),
  ]);

  const metadata = z.record(z.string().check(z.maxLength(64)), z.string().check(z.maxLength(512))).check(
    z.refine((value) => Object.keys(value).length <= 16, "metadata holds at most 16 keys"),
  );

  /**
   * The Responses request fields this proxy honours. Anything else is refused by name
   * (validate.ts): a field that is silently dropped is a behaviour the client did not get.
   */
  const responsesRequest = z.object({
    model: z.nullish(z.string().check(z.minLength(1), z.maxLength(256))),
    // Items are checked one by one (translate-input.ts), so an error can name the item and field.
    input: z.union([z.string(), z.array(z.looseObject({ type: z.optional(z.string()) }))]),
    instructions: z.nullish(z.string()),
    stream: z.nullish(z.boolean()),
    store: z.nullish(z.boolean()),
    previous_response_id: z.nullish(z.string().check(z.minLength(1), z.maxLength(256))),
    conversation: z.nullish(z.union([z.string(), z.looseObject({ id: z.string() })])),
    tools: z.nullish(z.array(z.looseObject({ type: z.string() }))),
    tool_choice: z.nullish(z.union([z.enum(["auto", "none", "required"]), z.looseObject({ type: z.literal("function"), name: z.string() })])),
    parallel_tool_calls: z.nullish(z.boolean()),
    max_output_tokens: z.nullish(z.int().check(z.minimum(1))),
    temperature: z.nullish(z.number().check(z.minimum(0), z.maximum(2))),
    top_p: z.nullish(z.number().check(z.minimum(0), z.maximum(1))),
    text: z.nullish(z.object({ format: z.nullish(textFormat), verbosity: z.nullish(z.enum(["low", "medium", "high"])) })),
    metadata: z.nullish(metadata),
    user: z.nullish(z.string()),
    // Accepted because every turn is windowed anyway ("auto") and there is nothing extra to include.
    truncation: z.nullish(z.enum(["auto", "disabled"])),
    include: z.nullish(z.array(z.string())),
    reasoning: z.nullish(z.looseObject({ effort: z.nullish(z.string()) })),
    service_tier: z.nullish(z.string()),
    prompt_cache_key: z.nullish(z.string()),
    safety_identifier: z.nullish(z.string()),
    top_logprobs: z.nullish(z.int().check(z.minimum(0), z.maximum(20))),
    stream_options: z.nullish(z.looseObject({})),
    background: z.nullish(z.literal(false)),
  });

  /** POST /v1/conversations: its first items (checked one by one, as input is) and its metadata. */
  const createConversation = z.object({
    items: z.nullish(z.array(z.looseObject({ type: z.optional(z.string()) }))),
    metadata: z.nullish(metadata),
  });

  return { messageItem, functionCallItem, functionCallOutputItem, itemReference, functionTool, responsesRequest, createConversation };
}

let built: ReturnType<typeof build> | undefined;
export const schemas = () => (built ??= build());

type Schemas = ReturnType<typeof build>;
export type MessageItem = z.infer<Schemas["messageItem"]>;
export type InputPart = Exclude<MessageItem["content"], string>[number];
export type ResponsesRequest = z.infer<Schemas["responsesRequest"]>;
