import { ID_PATTERN } from "../http/ids";

/**
 * Responses ids and output item ids name the session they belong to, after a fixed-length random
 * part: `resp_<32 hex>_<session>`. So a chained call (`previous_response_id`) or an item a client
 * sends back (`item_reference`) leads to its session with no lookup, and the turn still loads in
 * one Upstash request. A store: false response has no session and no suffix. The id is the
 * caller's own: the session it names is looked up under the caller's user, never anyone else's.
 */
const ID = /^(resp|msg|fc)_([0-9a-f]{32})(?:_(.+))?$/;

export type IdKind = "resp" | "msg" | "fc";

export function newId(kind: IdKind, session: string | undefined): string {
  const random = crypto.randomUUID().replaceAll("-", "");
  return session ? `${kind}_${random}_${session}` : `${kind}_${random}`;
}

/** The session an id of ours belongs to, or undefined for an id that is not ours or names none. */
export function sessionOfId(id: string, kind?: IdKind): string | undefined {
  const match = ID.exec(id);
  if (!match || (kind && match[1] !== kind)) return undefined;
  const session = match[3];
  return session !== undefined && ID_PATTERN.test(session) ? session : undefined;
}

/** Whether `id` is shaped like a response id of ours (whatever it names). */
export function isResponseId(id: string): boolean {
  return ID.exec(id)?.[1] === "resp" && id.length <= 200;
}
