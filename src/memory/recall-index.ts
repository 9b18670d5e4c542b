import type { Redis } from "@upstash/redis/cloudflare";
import * as z from "zod/mini";
import type { ChatMessage } from "../messages/schema";
import { messageText } from "../messages/text";
import { utf8Length } from "../http/utf8";
import { keys } from "../redis/keys";
import { recallTerms } from "./recall-terms";

type Commands = ReturnType<Redis["pipeline"]> | ReturnType<Redis["multi"]>;

/**
 * Cross-session recall: a per-user inverted index in Redis, written by the save's transaction and
 * searched by one script in the load's pipeline, so recall costs no round trip of its own. Each
 * indexed message is stored as recall quotes it (its role, text and time) under an id; each term
 * keeps a posting list of " id:tf:length" entries; the search scores them with BM25 inside Redis
 * and answers with the best messages up to a byte budget, each user message with the reply that
 * followed it when that fits. All keys carry the user's hash tag: one slot, one script.
 */

/** A stored message is quoted from at most this much of its text. */
const MAX_QUOTED_CHARS = 4000;
/** The most terms a query searches by. */
export const MAX_QUERY_TERMS = 32;
/**
 * What one save's indexing may add to its request. A save is kept under 768 KB, Upstash takes
 * 1 MB: a client seeding a session with hundreds of messages has its newest indexed, up to this.
 */
const MAX_INDEX_BYTES = 128 * 1024;

/**
 * evict(id): takes one message out of the messages, the lengths and its session's ids, leaving its
 * postings to be compacted lazily: evicted ids are always the oldest, below the index's `floor`,
 * so a posting list sheds them from its start when it is next appended to, and the search skips
 * them. forget(id) also takes it out of every posting list at once (a message deleted by request).
 */
const FORGET = `
local postings, messages, meta, sessions = KEYS[1], KEYS[2], KEYS[3], KEYS[5]
local function evict(id)
  local stored = redis.call('HGET', messages, id)
  if not stored then return nil end
  local owner, length, terms = string.match(stored, '^([^\\n]*)\\n(%d+)\\n([^\\n]*)\\n')
  redis.call('HSET', meta, 'length', tonumber(redis.call('HGET', meta, 'length') or '0') - tonumber(length))
  redis.call('HDEL', messages, id)
  local ids = redis.call('HGET', sessions, owner)
  if ids then
    ids = string.sub(string.gsub(ids .. ' ', ' ' .. id .. ' ', ' ', 1), 1, -2)
    if ids == '' then redis.call('HDEL', sessions, owner) else redis.call('HSET', sessions, owner, ids) end
  end
  return terms
end
local function forget(id)
  local terms = evict(id)
  if not terms then return end
  for term in string.gmatch(terms, '(%S+):%d+') do
    local list = redis.call('HGET', postings, term)
    if list then
      list = string.gsub(list, ' ' .. id .. ':%d+:%d+', '', 1)
      if list == '' then redis.call('HDEL', postings, term) else redis.call('HSET', postings, term, list) end
    end
  end
end
`;

/**
 * KEYS: postings, messages, meta, order, sessions, the session's indexed Idempotency-Keys.
 * ARGV: RECALL_MAX_MESSAGES, the TTL, the session, the Idempotency-Key (or ""), then per message
 * its entry, its terms ("term:tf ...") and its length in terms. A key already indexed indexes
 * nothing: the save that carries it appended nothing either (append-once). Past the cap the
 * oldest are evicted (see evict).
 */
export const INDEX_SCRIPT = `${FORGET}
local order = KEYS[4]
if ARGV[4] ~= '' then
  if redis.call('HGET', KEYS[6], ARGV[4]) then return 0 end
  redis.call('HSET', KEYS[6], ARGV[4], '1')
end
local floor = tonumber(redis.call('HGET', meta, 'floor') or '0')
-- A posting list before it is appended to: without the evicted ids at its start, and, for a word
-- in hundreds of messages, cut to its most recent 4 KB once it passes 8 KB (about 300 and 600
-- messages), which is all the search scores of it anyway. So a save copies little.
local function compacted(list)
  if floor > 0 then
    local live = ''
    for at, id in string.gmatch(list, '() (%d+):') do
      if tonumber(id) >= floor then
        live = at == 1 and list or string.sub(list, at)
        break
      end
    end
    list = live
  end
  if #list > 8000 then
    local tail = string.sub(list, -4000)
    list = string.sub(tail, string.find(tail, ' ', 1, true) or #tail + 1)
  end
  return list
end
local session, added = ARGV[3], {}
for i = 5, #ARGV, 3 do
  local id = tonumber(redis.call('HGET', meta, 'next') or '0') + 1
  redis.call('HSET', meta, 'next', id)
  local terms, length = ARGV[i + 1], ARGV[i + 2]
  redis.call('HSET', messages, id, session .. '\\n' .. length .. '\\n' .. terms .. '\\n' .. ARGV[i])
  for term, tf in string.gmatch(terms, '(%S+):(%d+)') do
    redis.call('HSET', postings, term, compacted(redis.call('HGET', postings, term) or '') .. ' ' .. id .. ':' .. tf .. ':' .. length)
  end
  redis.call('HSET', meta, 'length', tonumber(redis.call('HGET', meta, 'length') or '0') + tonumber(length))
  added[#added + 1] = id
end
redis.call('RPUSH', order, unpack(added))
redis.call('HSET', sessions, session, (redis.call('HGET', sessions, session) or '') .. ' ' .. table.concat(added, ' '))
local over = redis.call('LLEN', order) - tonumber(ARGV[1])
if over > 0 then
  for _, id in ipairs(redis.call('LRANGE', order, 0, over - 1)) do evict(id) end
  redis.call('LTRIM', order, over, -1)
  redis.call('HSET', meta, 'floor', redis.call('LRANGE', order, 0, 0)[1])
end
for i = 1, 5 do redis.call('EXPIRE', KEYS[i], ARGV[2]) end
return #added`;

/**
 * KEYS: postings, messages, meta, and (optional) the session's last query terms. ARGV: the byte
 * budget, the session to leave out (the window holds it), the most hits, 1 to bring each user
 * message's answer (0: hits alone), then the query's terms. A query of fewer than three terms
 * ("and when was that?") is searched with the session's last user message's terms too. Answers
 * flat: id, score, session, entry, ...
 */
export const SEARCH_SCRIPT = `
local count = redis.call('HLEN', KEYS[2])
if count == 0 then return {} end
local query, seen = {}, {}
for i = 5, #ARGV do
  if not seen[ARGV[i]] then
    seen[ARGV[i]] = true
    query[#query + 1] = ARGV[i]
  end
end
if #query < 3 and KEYS[4] then
  for term in string.gmatch(redis.call('GET', KEYS[4]) or '', '%S+') do
    if not seen[term] then
      seen[term] = true
      query[#query + 1] = term
    end
  end
end
local average = math.max(1, tonumber(redis.call('HGET', KEYS[3], 'length') or '0') / count)
local floor = tonumber(redis.call('HGET', KEYS[3], 'floor') or '0')
local scores, ranked = {}, {}
for _, term in ipairs(query) do
  local list = redis.call('HGET', KEYS[1], term)
  if list then
    local _, df = string.gsub(list, ' ', ' ')
    -- (df may count evicted messages not yet compacted away: never below a small weight.)
    local idf = math.max(0.05, math.log(1 + (count - df + 0.5) / (df + 0.5)))
    -- A word in hundreds of messages is scored over its most recent 300: the time of a search
    -- stays bounded however common the words a user types (its rarer words still find the rest).
    if df > 300 then
      local tail = string.sub(list, -math.floor(#list / df * 300))
      list = string.sub(tail, string.find(tail, ' ', 1, true) or #tail + 1)
    end
    for id, tf, length in string.gmatch(list, ' (%d+):(%d+):(%d+)') do
      tf = tonumber(tf)
      if tonumber(id) < floor then
        -- evicted, its posting not yet compacted
      elseif not scores[id] then
        scores[id] = 0
        ranked[#ranked + 1] = id
      end
      if scores[id] then
        scores[id] = scores[id] + idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * tonumber(length) / average))
      end
    end
  end
end
-- Only the best can make the page: sorting thousands of weak matches would cost more than the search.
if #ranked > 200 then
  local best = 0
  for _, id in ipairs(ranked) do best = math.max(best, scores[id]) end
  local strong = {}
  for _, id in ipairs(ranked) do
    if scores[id] >= best / 4 then strong[#strong + 1] = id end
  end
  ranked = strong
end
table.sort(ranked, function(a, b)
  if scores[a] ~= scores[b] then return scores[a] > scores[b] end
  return tonumber(a) > tonumber(b)
end)
local out, taken, used, hits, budget = {}, {}, 0, 0, tonumber(ARGV[1])
local function take(id, score)
  if taken[id] then return false end
  local stored = redis.call('HGET', KEYS[2], id)
  if not stored then return false end
  local owner, entry = string.match(stored, '^([^\\n]*)\\n%d+\\n[^\\n]*\\n(.*)$')
  if owner == ARGV[2] or (used > 0 and used + #entry > budget) then return false end
  taken[id] = true
  used = used + #entry
  for _, value in ipairs({ id, tostring(score), owner, entry }) do out[#out + 1] = value end
  return owner
end
for _, id in ipairs(ranked) do
  if hits >= tonumber(ARGV[3]) or used >= budget then break end
  local owner = take(id, scores[id])
  if owner then
    hits = hits + 1
    -- A question with its answer: the message that followed it in the same session.
    if ARGV[4] == '1' and string.sub(out[#out], 1, 15) == '{"role":"user",' then
      local following = tostring(tonumber(id) + 1)
      local stored = redis.call('HGET', KEYS[2], following)
      if stored and string.match(stored, '^([^\\n]*)\\n') == owner then take(following, 0) end
    end
  end
end
return out`;

/** KEYS: order, messages. ARGV: how many. The most recent messages, newest first, flat as the search answers (score 0). */
export const RECENT_SCRIPT = `
local out = {}
local ids = redis.call('LRANGE', KEYS[1], -tonumber(ARGV[1]), -1)
for i = #ids, 1, -1 do
  local stored = redis.call('HGET', KEYS[2], ids[i])
  if stored then
    local owner, entry = string.match(stored, '^([^\\n]*)\\n%d+\\n[^\\n]*\\n(.*)$')
    for _, value in ipairs({ ids[i], '0', owner, entry }) do out[#out + 1] = value end
  end
end
return out`;

/**
 * KEYS: order, messages. ARGV: the id after which to start, the byte budget. Indexed messages oldest
 * first up to the budget (at least one), for an export page: 1 if more are left (else 0), then flat
 * as the search answers (score 0).
 */
export const EXPORT_SCRIPT = `
local out, used, budget, after = { 0 }, 0, tonumber(ARGV[2]), tonumber(ARGV[1])
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  if tonumber(id) > after then
    local stored = redis.call('HGET', KEYS[2], id)
    if stored then
      local owner, entry = string.match(stored, '^([^\\n]*)\\n%d+\\n[^\\n]*\\n(.*)$')
      if used > 0 and used + #entry > budget then
        out[1] = 1
        return out
      end
      used = used + #entry
      for _, value in ipairs({ id, '0', owner, entry }) do out[#out + 1] = value end
    end
  end
end
return out`;

/** KEYS: as INDEX_SCRIPT's first five. ARGV: the id of the message recall forgets. 1 if it was there. */
export const FORGET_ONE_SCRIPT = `${FORGET}
if not redis.call('HGET', messages, ARGV[1]) then return 0 end
forget(ARGV[1])
redis.call('LREM', KEYS[4], 1, ARGV[1])
return 1`;

/** KEYS: as INDEX_SCRIPT's first five. ARGV: the session whose messages recall forgets. */
export const FORGET_SESSION_SCRIPT = `${FORGET}
local ids = redis.call('HGET', sessions, ARGV[1])
if not ids then return 0 end
local n = 0
for id in string.gmatch(ids, '%d+') do
  forget(id)
  redis.call('LREM', KEYS[4], 1, id)
  n = n + 1
end
redis.call('HDEL', sessions, ARGV[1])
return n`;

/** Every recall key of the user, in the order the scripts take them: an erasure deletes them all. */
export const recallKeysOf = (user: string) => [keys.recall.postings(user), keys.recall.messages(user), keys.recall.meta(user), keys.recall.order(user), keys.recall.sessions(user)];

export interface RecallSettings {
  maxMessages: number;
  ttlSeconds: number;
}

/** How a message is quoted: its role, its text (cut), and when it was said. */
function entryOf(message: ChatMessage, text: string, at: number): string {
  return JSON.stringify({ role: message.role, text: text.slice(0, MAX_QUOTED_CHARS), at });
}

/**
 * Queues the indexing of a save's messages: what users, assistants and tools said, as text. The
 * terms of the last user message among them are kept beside the session too (for its next query
 * that says little on its own, see SEARCH_SCRIPT), for `sessionTtlSeconds`. Nothing is queued
 * when none of them holds a word recall could find.
 */
export function indexMessages(
  commands: Commands,
  {
    user,
    session,
    idempotencyKey,
    messages,
    now,
    settings,
    sessionTtlSeconds,
  }: { user: string; session: string; idempotencyKey: string | undefined; messages: readonly ChatMessage[]; now: number; settings: RecallSettings; sessionTtlSeconds: number },
): boolean {
  const triples: string[][] = [];
  let bytes = 0;
  let asked: string[] | undefined;
  // Newest first, so that past MAX_INDEX_BYTES it is the oldest of a seeded history that is left out.
  for (const message of [...messages].reverse()) {
    if (message.role !== "user" && message.role !== "assistant" && message.role !== "tool") continue;
    const text = messageText(message).trim();
    const terms = recallTerms(text.slice(0, MAX_QUOTED_CHARS));
    if (terms.size === 0) continue;
    if (!asked && message.role === "user") asked = [...terms.keys()].slice(0, MAX_QUERY_TERMS);
    let length = 0;
    const listed: string[] = [];
    for (const [term, count] of terms) {
      listed.push(`${term}:${count}`);
      length += count;
    }
    const triple = [entryOf(message, text, now), listed.join(" "), String(length)];
    bytes += triple.reduce((sum, arg) => sum + utf8Length(arg), 0);
    if (bytes > MAX_INDEX_BYTES) break;
    triples.unshift(triple);
  }
  if (asked) commands.set(keys.recallQuery(user, session), asked.join(" "), { ex: sessionTtlSeconds });
  const args = triples.flat();
  if (args.length === 0) return false;
  commands.eval(INDEX_SCRIPT, [...recallKeysOf(user), keys.recalled(user, session)], [String(settings.maxMessages), String(settings.ttlSeconds), session, idempotencyKey ?? "", ...args]);
  return true;
}

/** One earlier message recall found. */
export interface Recalled {
  id: string;
  score: number;
  session: string;
  role: "user" | "assistant" | "tool";
  text: string;
  /** When it was said (ms). */
  at: number;
}

let entrySchema: ReturnType<typeof buildEntrySchema> | undefined;
function buildEntrySchema() {
  return z.object({ role: z.enum(["user", "assistant", "tool"]), text: z.string(), at: z.number() });
}

/** The search script's answer, checked entry by entry: what is not a quoted message is left out. */
export function parseRecalled(raw: unknown): Recalled[] {
  if (!Array.isArray(raw)) return [];
  const found: Recalled[] = [];
  for (let i = 0; i + 3 < raw.length; i += 4) {
    const [id, score, session, entry] = raw.slice(i, i + 4);
    if (typeof id !== "string" || typeof session !== "string" || typeof entry !== "string") continue;
    try {
      const parsed = (entrySchema ??= buildEntrySchema()).safeParse(JSON.parse(entry));
      if (parsed.success) found.push({ id, score: Number(score), session, ...parsed.data });
    } catch {
      // not an entry this code wrote: left out
    }
  }
  return found;
}

/** The query's terms, for the search: the distinct ones, at most MAX_QUERY_TERMS. */
export function queryTerms(text: string): string[] {
  return [...recallTerms(text).keys()].slice(0, MAX_QUERY_TERMS);
}

/**
 * Queues the search of the user's earlier messages, leaving out `exclude` (the turn's own session);
 * with `answers`, a user message found brings the reply that followed it.
 */
export function searchRecall(
  commands: Commands,
  { user, exclude, terms, budgetBytes, maxHits, answers = true }: { user: string; exclude: string | undefined; terms: string[]; budgetBytes: number; maxHits: number; answers?: boolean },
) {
  const queryKeys = [...recallKeysOf(user).slice(0, 3), ...(exclude ? [keys.recallQuery(user, exclude)] : [])];
  return commands.eval(SEARCH_SCRIPT, queryKeys, [String(budgetBytes), exclude ?? "", String(maxHits), answers ? "1" : "0", ...terms]);
}


/** Queues reading the user's `limit` most recently indexed messages, newest first. */
export function recentRecall(commands: Commands, user: string, limit: number) {
  return commands.eval(RECENT_SCRIPT, [keys.recall.order(user), keys.recall.messages(user)], [String(limit)]);
}

/** Queues reading indexed messages after id `after`, oldest first, up to `budgetBytes`; the answer goes to parseExported. */
export function exportRecall(commands: Commands, user: string, after: number, budgetBytes: number) {
  return commands.eval(EXPORT_SCRIPT, [keys.recall.order(user), keys.recall.messages(user)], [String(after), String(budgetBytes)]);
}

/** EXPORT_SCRIPT's answer: the messages, and whether more are left. */
export function parseExported(raw: unknown): { messages: Recalled[]; more: boolean } {
  if (!Array.isArray(raw) || raw.length === 0) return { messages: [], more: false };
  return { messages: parseRecalled(raw.slice(1)), more: Number(raw[0]) === 1 };
}

/** Queues forgetting one indexed message; its answer is 1 if it was there. */
export function forgetRecalled(commands: Commands, user: string, id: string) {
  return commands.eval(FORGET_ONE_SCRIPT, recallKeysOf(user), [id]);
}

/** Queues forgetting every message a session added to recall. */
export function forgetSessionRecall(commands: Commands, user: string, session: string) {
  return commands.eval(FORGET_SESSION_SCRIPT, recallKeysOf(user), [session]);
}
