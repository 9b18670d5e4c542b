import type { Redis } from "@upstash/redis/cloudflare";
import * as z from "zod/mini";
import type { ChatMessage } from "../messages/schema";
import { InvalidRequestError } from "../http/errors";
import { ID_PATTERN } from "../http/ids";
import { keys } from "../redis/keys";
import { withRedis } from "../redis/client";
import { parseConversation } from "./conversation-record";
import { parseStoredMessages } from "./stored-message";
import { parseSummary } from "./summary-record";
import { exportRecall, parseExported, type Recalled } from "./recall-index";

/**
 * Bytes of stored messages, summaries and metadata one export page reads, whatever the sessions
 * hold: a session can hold HISTORY_MAX_STORED messages of up to a reply's 768 KB each, so pages
 * counted in sessions could ask Upstash for hundreds of MB at once, more than an isolate holds.
 * A page may go over by one message: every page holds at least one, so an export always ends.
 */
export const EXPORT_PAGE_BYTES = 2 * 1024 * 1024;

/** Sessions one page looks at: many small ones still make a page of a bounded number of keys. */
const SESSIONS_PER_PAGE = 50;

/** Where a page starts: after the session (score, id), or inside it at `position` when it was cut. */
export interface ExportCursor {
  score: number;
  id: string;
  /** The position (among everything the session ever appended) of its first message not yet exported. */
  position: number | undefined;
}

/** After the sessions, the export goes on with what recall holds: the indexed messages after id `memoriesAfter`. */
export type PageCursor = ExportCursor | { memoriesAfter: number };

export function encodeCursor(cursor: PageCursor): string {
  const text = "memoriesAfter" in cursor ? `m:${cursor.memoriesAfter}` : `${cursor.score}:${cursor.position ?? ""}:${cursor.id}`;
  return btoa(text).replace(/=+$/, "").replaceAll("+", "-").replaceAll("/", "_");
}

export function decodeCursor(cursor: string): PageCursor {
  let text = "";
  try {
    text = atob(cursor.replaceAll("-", "+").replaceAll("_", "/"));
  } catch {
    // not base64: refused below like any other cursor this API did not write
  }
  const memories = /^m:(\d{1,15})$/.exec(text);
  if (memories) return { memoriesAfter: Number(memories[1]) };
  const match = /^(\d{1,16}):(\d{0,16}):(.+)$/.exec(text);
  if (!match || !ID_PATTERN.test(match[3]!)) {
    throw new InvalidRequestError("cursor is not one an export page returned as next_cursor.", { param: "cursor", code: "invalid_cursor" });
  }
  return { score: Number(match[1]), id: match[3]!, position: match[2] ? Number(match[2]) : undefined };
}

/**
 * Reads sessions in order up to a byte budget, inside Redis, so the answer is bounded before it is
 * built: each string's length is counted before it is taken.
 *
 * KEYS: per session, its messages, summary, appended count and conversation record.
 * ARGV: the budget in bytes, then the position to start the first session at.
 * Returns per session looked at: its length, PTTL, the position of its first returned message,
 * summary, conversation record, 1 if it was read to its end (else the page ends there), messages.
 */
export const EXPORT_PAGE_SCRIPT = `
local budget = tonumber(ARGV[1])
local used = 0
local out = {}
for s = 1, #KEYS / 4 do
  local list = KEYS[4 * s - 3]
  local len = redis.call('LLEN', list)
  local summary = redis.call('GET', KEYS[4 * s - 2])
  local head = math.max(0, tonumber(redis.call('GET', KEYS[4 * s - 1]) or len) - len)
  local conversation = redis.call('GET', KEYS[4 * s])
  local i = 0
  if s == 1 then i = math.min(len, math.max(0, tonumber(ARGV[2]) - head)) end
  local first = head + i
  if summary then used = used + #summary end
  if conversation then used = used + #conversation end
  local items, complete = {}, 1
  while complete == 1 and i < len do
    local chunk = redis.call('LRANGE', list, i, i + 15)
    if #chunk == 0 then break end
    for _, message in ipairs(chunk) do
      if used + #message > budget and (#items > 0 or #out > 0) then
        complete = 0
        break
      end
      used = used + #message
      items[#items + 1] = message
      i = i + 1
    end
  end
  out[#out + 1] = { len, redis.call('PTTL', list), first, summary, conversation, complete, items }
  if complete == 0 or used >= budget then return out end
end
return out`;

/** One session, or the part of it that fitted a page. */
export interface ExportedSession {
  id: string;
  lastActiveAt: number;
  expiresAt: number;
  summary: string | null;
  messages: ChatMessage[];
  /** The position of messages[0] among everything the session ever appended. */
  firstPosition: number;
  /** The previous page ended inside this session: these messages go on from its last entry's. */
  continued: boolean;
  /** False when the page ended inside the session: the next page goes on with its next message. */
  complete: boolean;
  /** The metadata it was created with through the Conversations API, if it was. */
  conversationMetadata: Record<string, string> | null;
}

export interface ExportPage {
  sessions: ExportedSession[];
  /** What recall holds (its pages come after the sessions'). */
  memories: Recalled[];
  /** Where the next page starts, or undefined after the last. */
  next: PageCursor | undefined;
}

interface Candidate {
  id: string;
  score: number;
}

let rowsSchema: ReturnType<typeof buildRowsSchema> | undefined;
function buildRowsSchema() {
  const text = z.nullable(z.string());
  return z.array(z.tuple([z.number(), z.number(), z.number(), text, text, z.number(), z.array(z.string())]));
}

/** The script's answer, checked: anything else is a failed read, never a partial export. */
function parseRows(raw: unknown): z.infer<ReturnType<typeof buildRowsSchema>> {
  const parsed = (rowsSchema ??= buildRowsSchema()).safeParse(raw);
  if (!parsed.success) throw new Error("the export script answered with something else than its rows");
  return parsed.data;
}

/** Up to `count` live sessions of the user after the cursor, least recently active first. */
async function sessionsAfter(redis: Redis, user: string, after: ExportCursor | undefined, oldest: number, count: number): Promise<{ sessions: Candidate[]; more: boolean }> {
  const from = Math.max(oldest, after?.score ?? 0);
  // Sessions with the cursor's own score sort by id; a few more are asked for to step over them.
  const flat = await redis.zrange<string[]>(keys.sessionIndex(user), from, "+inf", { byScore: true, withScores: true, offset: 0, count: count + 16 });
  const sessions: Candidate[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const candidate = { id: String(flat[i]), score: Number(flat[i + 1]) };
    if (after && (candidate.id === after.id || (candidate.score === after.score && candidate.id < after.id))) continue;
    sessions.push(candidate);
  }
  return { sessions: sessions.slice(0, count), more: sessions.length > count || flat.length === 2 * (count + 16) };
}

/**
 * One page of a user's export: its sessions first (readSessions), then, if recall holds anything
 * of the user, the indexed messages oldest first, up to EXPORT_PAGE_BYTES a page as well.
 */
export async function readExportPage(redis: Redis, user: string, cursor: PageCursor | undefined, ttlMs: number, now = Date.now()): Promise<ExportPage> {
  if (cursor && "memoriesAfter" in cursor) {
    const [raw] = await withRedis("export", () => exportRecall(redis.pipeline(), user, cursor.memoriesAfter, EXPORT_PAGE_BYTES).exec<[unknown]>());
    const { messages, more } = parseExported(raw);
    const last = messages.at(-1);
    return { sessions: [], memories: messages, next: more && last ? { memoriesAfter: Number(last.id) } : undefined };
  }
  const page = await readSessions(redis, user, cursor, ttlMs, now);
  if (page.next) return { ...page, memories: [] };
  // The sessions are done: recall's pages follow if it holds anything.
  const indexed = await withRedis("export", () => redis.hlen(keys.recall.messages(user)));
  return { sessions: page.sessions, memories: [], next: Number(indexed) > 0 ? { memoriesAfter: 0 } : undefined };
}

/**
 * One page of a user's sessions: the live sessions after `cursor`, least recently active first, with
 * their messages up to EXPORT_PAGE_BYTES. Sessions move to the end of that order when they are
 * active, so one active during an export is not missed, though it may come twice (the later copy
 * is the newer); a session cut by a page goes on from where it was cut, by position, even if
 * older messages were trimmed meanwhile. Two Upstash requests: the index, then the script.
 */
async function readSessions(redis: Redis, user: string, cursor: ExportCursor | undefined, ttlMs: number, now: number): Promise<{ sessions: ExportedSession[]; next: ExportCursor | undefined }> {
  return withRedis("export", async () => {
    const cut = cursor?.position !== undefined ? [{ id: cursor.id, score: cursor.score }] : [];
    const { sessions: listed, more } = await sessionsAfter(redis, user, cursor, now - ttlMs, SESSIONS_PER_PAGE - cut.length);
    const candidates = [...cut, ...listed];
    if (candidates.length === 0) return { sessions: [], next: undefined };
    const rows = parseRows(
      await redis.eval<string[], unknown>(
        EXPORT_PAGE_SCRIPT,
        candidates.flatMap(({ id }) => [keys.session(user, id), keys.summary(user, id), keys.appended(user, id), keys.conversation(user, id)]),
        [String(EXPORT_PAGE_BYTES), String(cursor?.position ?? 0)],
      ),
    );
    const sessions: ExportedSession[] = [];
    for (const [i, [length, pttl, first, summary, conversation, complete, messages]] of rows.entries()) {
      const { id, score } = candidates[i]!;
      const record = parseConversation(conversation);
      // Gone since the index was read (a conversation created without items is there all the same),
      // or a page that ended before this session's first message fitted.
      if ((length === 0 && !record) || (messages.length === 0 && complete === 0 && length > 0)) continue;
      sessions.push({
        id,
        lastActiveAt: score,
        expiresAt: length > 0 ? now + Math.max(0, pttl) : score + ttlMs,
        summary: parseSummary(summary)?.text ?? null,
        messages: parseStoredMessages(messages),
        firstPosition: first,
        continued: i < cut.length,
        complete: complete === 1,
        conversationMetadata: record?.metadata ?? null,
      });
    }
    const [, , first, , , complete, messages] = rows.at(-1)!;
    const lastCandidate = candidates[rows.length - 1]!;
    if (complete === 0) return { sessions, next: { ...lastCandidate, position: first + messages.length } };
    const finished = rows.length === candidates.length && !more;
    return { sessions, next: finished ? undefined : { ...lastCandidate, position: undefined } };
  });
}
