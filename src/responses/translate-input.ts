import type { ChatMessage, ContentPart, ToolCall } from "../messages/schema";
import { InvalidRequestError } from "../http/errors";
import { invalidRequestFrom } from "../http/zod-issue";
import { sessionOfId } from "./ids";
import { schemas, type InputPart } from "./schema";

type Assistant = Extract<ChatMessage, { role: "assistant" }>;

export interface TranslatedInput {
  /** The input as Chat Completions messages, `instructions` first. */
  messages: ChatMessage[];
  /**
   * Assistant messages that stand for an `item_reference`: a reply of ours the client did not
   * resend. They mark where the client's copy of history ends; the session holds their content.
   */
  references: ReadonlySet<ChatMessage>;
  /** The session the referenced items belong to (the last one named), if any. */
  referencedSession: string | undefined;
}

function refuse(param: string, message: string): never {
  throw new InvalidRequestError(message, { param, code: "unsupported_value" });
}

/** A content part of the Responses API as the Chat Completions part it means. */
function chatPart(part: InputPart, param: string): ContentPart {
  switch (part.type) {
    case "input_text":
    case "output_text":
      if (typeof part.text !== "string") refuse(`${param}.text`, `${param}.text must be a string.`);
      return { type: "text", text: part.text };
    case "refusal":
      return { type: "text", text: typeof part.refusal === "string" ? part.refusal : "" };
    case "input_image":
      if (typeof part.image_url !== "string") refuse(param, "Images are accepted as image_url (an https:// or data: URL), not by file_id.");
      return { type: "image_url", image_url: { url: part.image_url, ...(typeof part.detail === "string" ? { detail: part.detail } : {}) } };
    case "input_file": {
      if (part.file_url !== undefined && part.file_url !== null) refuse(param, "Files are accepted as file_data or file_id, not by file_url.");
      const file = Object.fromEntries(["file_data", "file_id", "filename"].filter((key) => typeof part[key] === "string").map((key) => [key, part[key]]));
      return { type: "file", file };
    }
    case "input_audio":
      return { type: "input_audio", input_audio: part.input_audio };
    default:
      return refuse(`${param}.type`, `Content parts of type '${part.type.slice(0, 40)}' are not supported.`);
  }
}

/** Text-only content (instructions, an assistant's reply, a tool's output) as one string. */
function plainText(content: string | InputPart[], param: string): string {
  if (typeof content === "string") return content;
  return content
    .map((part, index) => {
      const translated = chatPart(part, `${param}[${index}]`);
      if (translated.type !== "text") refuse(`${param}[${index}]`, `Only text is accepted here, not '${part.type.slice(0, 40)}'.`);
      return String(translated.text);
    })
    .join("");
}

/**
 * A Responses `input` (a string, or items: messages, function calls and their outputs, references to
 * our own earlier items) as Chat Completions messages. Consecutive function calls become one
 * assistant message with tool_calls, joined to the assistant text right before them, as Chat
 * Completions expects. Reasoning items carry nothing a chat model can use and are dropped.
 */
export function translateInput(
  input: string | ReadonlyArray<{ type?: string | undefined; [field: string]: unknown }>,
  instructions: string | null | undefined,
  field = "input",
): TranslatedInput {
  const messages: ChatMessage[] = instructions ? [{ role: "system", content: instructions }] : [];
  const references = new Set<ChatMessage>();
  let referencedSession: string | undefined;
  if (typeof input === "string") {
    messages.push({ role: "user", content: input });
    return { messages, references, referencedSession };
  }

  // The assistant message the next function call joins, while nothing else came in between.
  let open: Assistant | undefined;
  input.forEach((raw, index) => {
    const param = `${field}[${index}]`;
    const type = raw.type ?? "message";
    switch (type) {
      case "message": {
        const parsed = schemas().messageItem.safeParse(raw);
        if (!parsed.success) throw invalidRequestFrom(parsed.error.issues, param);
        const item = parsed.data;
        if (item.role === "assistant") {
          if (item.id) referencedSession = sessionOfId(item.id, "msg") ?? referencedSession;
          open = { role: "assistant", content: plainText(item.content, `${param}.content`) };
          messages.push(open);
          return;
        }
        open = undefined;
        if (item.role === "user") {
          const content = typeof item.content === "string" ? item.content : item.content.map((part, i) => chatPart(part, `${param}.content[${i}]`));
          messages.push({ role: "user", content });
        } else {
          messages.push({ role: item.role, content: plainText(item.content, `${param}.content`) });
        }
        return;
      }
      case "function_call": {
        const parsed = schemas().functionCallItem.safeParse(raw);
        if (!parsed.success) throw invalidRequestFrom(parsed.error.issues, param);
        const call: ToolCall = { id: parsed.data.call_id, type: "function", function: { name: parsed.data.name, arguments: parsed.data.arguments } };
        if (parsed.data.id) referencedSession = sessionOfId(parsed.data.id, "fc") ?? referencedSession;
        if (!open) {
          open = { role: "assistant", content: null };
          messages.push(open);
        }
        open.tool_calls = [...(open.tool_calls ?? []), call];
        return;
      }
      case "function_call_output": {
        const parsed = schemas().functionCallOutputItem.safeParse(raw);
        if (!parsed.success) throw invalidRequestFrom(parsed.error.issues, param);
        open = undefined;
        messages.push({ role: "tool", tool_call_id: parsed.data.call_id, content: plainText(parsed.data.output, `${param}.output`) });
        return;
      }
      case "item_reference": {
        const parsed = schemas().itemReference.safeParse(raw);
        if (!parsed.success) throw invalidRequestFrom(parsed.error.issues, param);
        const session = sessionOfId(parsed.data.id);
        if (!session) refuse(`${param}.id`, `'${parsed.data.id.slice(0, 80)}' is not an item this proxy stored; send the item itself.`);
        referencedSession = session;
        const placeholder: Assistant = { role: "assistant", content: "" };
        references.add(placeholder);
        messages.push(placeholder);
        open = undefined;
        return;
      }
      case "reasoning":
        return;
      default:
        refuse(`${param}.type`, `Input items of type '${type.slice(0, 40)}' are not supported.`);
    }
  });
  return { messages, references, referencedSession };
}
