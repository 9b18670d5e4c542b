import type { ChatMessage } from "../chat/schema";
import { messageText } from "../chat/text";

export interface PromptParts {
  /** The configured base prompt, or the client's own instructions where it may send them. */
  instructions: string;
  role: "system" | "developer";
  preferences?: Record<string, unknown>;
  summary?: string | null;
}

/** One system message: who the assistant is, who the user is, and what was said before the window. */
export function buildSystemMessage(parts: PromptParts): ChatMessage {
  const sections = [parts.instructions.trim()];
  if (parts.preferences && Object.keys(parts.preferences).length > 0) {
    sections.push(`User preferences: ${JSON.stringify(parts.preferences)}`);
  }
  if (parts.summary?.trim()) {
    sections.push(`Summary of the conversation so far: ${parts.summary.trim()}`);
  }
  return { role: parts.role, content: sections.filter(Boolean).join("\n\n") };
}
