import { z } from "zod";

// Loose objects everywhere: fields OpenAI adds tomorrow must reach the upstream untouched.
const part = z.looseObject({ type: z.string() });
const content = z.union([z.string(), z.array(part)]);

const toolCall = z.looseObject({
  id: z.string(),
  type: z.string(),
  function: z.looseObject({ name: z.string(), arguments: z.string() }).optional(),
});

const instruction = (role: "system" | "developer") =>
  z.looseObject({ role: z.literal(role), content, name: z.string().optional() });

export const chatMessage = z.discriminatedUnion("role", [
  instruction("system"),
  instruction("developer"),
  z.looseObject({ role: z.literal("user"), content, name: z.string().optional() }),
  z.looseObject({
    role: z.literal("assistant"),
    content: content.nullish(),
    tool_calls: z.array(toolCall).optional(),
    name: z.string().optional(),
  }),
  z.looseObject({ role: z.literal("tool"), content, tool_call_id: z.string() }),
  z.looseObject({ role: z.literal("function"), content: z.string().nullable(), name: z.string() }),
]);

export type ChatMessage = z.infer<typeof chatMessage>;
export type ContentPart = z.infer<typeof part>;
export type ToolCall = z.infer<typeof toolCall>;

export const chatRequest = z.looseObject({
  model: z.string().min(1).max(256).optional(),
  messages: z.array(chatMessage).min(1),
  stream: z.boolean().nullish(),
  n: z.number().int().nullish(),
  user: z.string().optional(),
});

export type ChatRequest = z.infer<typeof chatRequest>;
