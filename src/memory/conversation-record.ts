import * as z from "zod/mini";
import { storedJson } from "./stored-json";

/** What `session:{user}:{session}:conversation` holds: when the Conversations API created the session, and its metadata. */
const record = () => z.object({ created_at: z.number(), metadata: z.record(z.string(), z.string()) });

export interface ConversationInfo {
  id: string;
  createdAt: number;
  metadata: Record<string, string>;
}

export function formatConversation(createdAt: number, metadata: Record<string, string>): string {
  return JSON.stringify({ created_at: createdAt, metadata });
}

export const parseConversation = storedJson(record);
