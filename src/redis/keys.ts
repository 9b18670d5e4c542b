/**
 * Every Redis key the proxy writes. The braces are literal: ids may contain ':' but never '{' or '}',
 * so user "a:b" with session "c" can never meet user "a" with session "b:c", a session id can never
 * reach a summary key, and (as a Redis Cluster hash tag) all of one user's keys share a slot.
 */
export const keys = {
  session: (user: string, session: string) => `session:{${user}}:{${session}}`,
  summary: (user: string, session: string) => `session:{${user}}:{${session}}:summary`,
  /** How many messages the session ever appended: positions (and the summary's watermark) count from it. */
  appended: (user: string, session: string) => `session:{${user}}:{${session}}:appended`,
  /** Held while one summarisation of the session runs, so two never fold the same messages. */
  summaryLock: (user: string, session: string) => `session:{${user}}:{${session}}:summary-lock`,
  /** The session's committed turns by Idempotency-Key, each with its reply: a retry is answered from here. */
  turns: (user: string, session: string) => `session:{${user}}:{${session}}:turns`,
  /** The session's committed Idempotency-Keys in the order they were committed: the oldest are forgotten first. */
  turnOrder: (user: string, session: string) => `session:{${user}}:{${session}}:turn-order`,
  /** Idempotency-Keys whose turn is still running, each held until a deadline: a concurrent retry is told to wait. */
  claims: (user: string, session: string) => `session:{${user}}:{${session}}:claims`,
  /** The session's Responses API records by response id (each with its output and input items). */
  responses: (user: string, session: string) => `session:{${user}}:{${session}}:responses`,
  /** A session created through the Conversations API: when, and its metadata. */
  conversation: (user: string, session: string) => `session:{${user}}:{${session}}:conversation`,
  /** The terms of the session's last user message: recall adds them to a query that says little on its own. */
  recallQuery: (user: string, session: string) => `session:{${user}}:{${session}}:recall-query`,
  /** Idempotency-Keys whose turn recall has indexed: a retry that commits nothing indexes nothing. */
  recalled: (user: string, session: string) => `session:{${user}}:{${session}}:recalled`,
  sessionIndex: (user: string) => `sessions:{${user}}`,
  /** The user's recall index (memory/recall-index.ts): it outlives sessions, like the profile. */
  recall: {
    /** term -> " id:tf:length" for every indexed message holding it. */
    postings: (user: string) => `recall:{${user}}:postings`,
    /** id -> the message as recall quotes it, with its session and terms. */
    messages: (user: string) => `recall:{${user}}:messages`,
    /** next (the last id given), length (of all messages, in terms). */
    meta: (user: string) => `recall:{${user}}:meta`,
    /** Ids oldest first: past RECALL_MAX_MESSAGES the first go. */
    order: (user: string) => `recall:{${user}}:order`,
    /** session -> " id id ...": what a session delete takes out. */
    sessions: (user: string) => `recall:{${user}}:sessions`,
  },
  profile: (user: string) => `profile:{${user}}`,
  /** When the user was last erased (ms): a turn that loaded before then must not save after it. */
  erased: (user: string) => `erased:{${user}}`,
  /** @upstash/ratelimit writes `{prefix}:{identifier}:{window}` (with a TTL) from these. */
  rateLimit: {
    userPrefix: "ratelimit:user",
    user: (user: string) => `{${user}}`,
    authFailurePrefix: "ratelimit:auth-failures",
    ip: (ip: string) => `{${ip}}`,
  },
};
