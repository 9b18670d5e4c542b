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

/**
 * The id of an input item a response lists (input_items): `<kind>_in_<the response's random part>_<n>`,
 * a shape sessionOfId never reads as naming a session.
 */
export function inputItemId(responseId: string, kind: string, index: number, call: number): string {
  const random = ID.exec(responseId)?.[2] ?? "0";
  return `${kind}_in_${random}_${index}${call ? `_${call}` : ""}`;
}
