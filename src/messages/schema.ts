import * as z from "zod/mini";

// Loose objects everywhere: fields OpenAI adds tomorrow must reach the upstream untouched.
const part = z.looseObject({ type: z.string() });
const content = z.union([z.string(), z.array(part)]);

const toolCall = z.looseObject({
  id: z.string(),
  type: z.string(),
  function: z.optional(z.looseObject({ name: z.string(), arguments: z.string() })),
});

const name = z.optional(z.string());

/** The call of legacy function calling (`functions`), deprecated by OpenAI for tools but still served. */
const functionCall = z.looseObject({ name: z.string(), arguments: z.string() });

const instruction = <R extends "system" | "developer">(role: R) => z.looseObject({ role: z.literal(role), content, name });

export const chatMessage = z.discriminatedUnion("role", [
  instruction("system"),
  instruction("developer"),
  z.looseObject({ role: z.literal("user"), content, name }),
  z.looseObject({
    role: z.literal("assistant"),
    content: z.nullish(content),
    tool_calls: z.optional(z.array(toolCall)),
    function_call: z.nullish(functionCall),
    name,
  }),
  z.looseObject({ role: z.literal("tool"), content, tool_call_id: z.string() }),
  z.looseObject({ role: z.literal("function"), content: z.nullable(z.string()), name: z.string() }),
]);

export type ChatMessage = z.infer<typeof chatMessage>;
export type ContentPart = z.infer<typeof part>;
export type ToolCall = z.infer<typeof toolCall>;

export const chatRequest = z.looseObject({
  model: z.nullish(z.string().check(z.minLength(1), z.maxLength(256))),
  messages: z.array(chatMessage).check(z.minLength(1)),
  stream: z.nullish(z.boolean()),
  n: z.nullish(z.number()),
  user: z.optional(z.string()),
});

export type ChatRequest = z.infer<typeof chatRequest>;
