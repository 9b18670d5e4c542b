import { InvalidRequestError } from "../http/errors";
import type { ChatMessage } from "./schema";

type Instruction = Extract<ChatMessage, { role: "system" | "developer" }>;

/** A request's messages, sorted by what the proxy does with each. */
export interface Conversation {
  /** The client's own system/developer messages: they replace the base prompt and are never stored. */
  instructions: Instruction[];
  /** What the client says came before; used only to start a session that has nothing stored yet. */
  earlier: ChatMessage[];
  /** What follows the last assistant message: the new user message(s) or tool results. */
  newTurn: ChatMessage[];
}

function isInstruction(message: ChatMessage): message is Instruction {
  return message.role === "system" || message.role === "developer";
}

/**
 * Clients that resend the whole conversation every time (the Vercel AI SDK's useChat, LangChain
 * with its own memory) and clients that send only the new message both work: whatever follows the
 * last assistant message is new, the rest is the client's copy of history.
 */
export function splitConversation(messages: readonly ChatMessage[], param = "messages"): Conversation {
  const instructions = messages.filter(isInstruction);
  const dialogue = messages.filter((message) => !isInstruction(message));
  const lastAssistant = dialogue.findLastIndex((message) => message.role === "assistant");
  const newTurn = dialogue.slice(lastAssistant + 1);
  if (newTurn.length === 0) {
    throw new InvalidRequestError("The conversation must end with a new user message or tool results after the last assistant message.", {
      param,
    });
  }
  return { instructions, earlier: dialogue.slice(0, lastAssistant + 1), newTurn };
}
