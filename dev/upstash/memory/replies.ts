import type { Reply } from "../backend";

/**
 * A status reply (+OK, +PONG). Over HTTP it is just the text; a Lua script gets it as the table
 * {ok = text}, as from Redis, so the backend keeps the two apart until the reply leaves it.
 */
export class Status {
  constructor(readonly text: string) {}
}

export const OK = new Status("OK");

export type MemoryReply = string | number | null | Status | MemoryReply[];

export function toReply(reply: MemoryReply): Reply {
  if (reply instanceof Status) return reply.text;
  if (Array.isArray(reply)) return reply.map(toReply);
  return reply;
}
