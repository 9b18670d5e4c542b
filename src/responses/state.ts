import { InvalidRequestError, NotFoundError } from "../http/errors";
import { newSessionId, validId } from "../http/ids";
import { sessionOfId } from "./ids";
import type { ResponsesRequest } from "./schema";

export interface ResponseSession {
  /** The session the turn reads and saves; undefined for store: false. */
  session: string | undefined;
  /** The conversation the request named (it is the session). */
  conversation: string | undefined;
  /** The response the request continues: the turn's load checks the session holds it. */
  previous: string | undefined;
}

/**
 * Which session a Responses request belongs to: the one its previous response belongs to, the
 * conversation it names, X-Session-Id, the session of the items it references, or a new one.
 * store: false is stateless: nothing is read or written but the user's preferences.
 */
export function sessionOfRequest(
  request: ResponsesRequest,
  sessionHeader: string | undefined,
  input: { referencedSession: string | undefined; references: ReadonlySet<unknown> },
): ResponseSession {
  const referenced = input.referencedSession;
  const conversation = typeof request.conversation === "string" ? request.conversation : (request.conversation?.id ?? undefined);
  const previous = request.previous_response_id ?? undefined;
  if (previous && conversation) {
    throw new InvalidRequestError("previous_response_id and conversation cannot both be set: a response already belongs to a conversation.", {
      param: "conversation",
    });
  }
  if (request.store === false) {
    // Resent items carry their content; only a reference needs the memory store: false turns off.
    if (previous || conversation || input.references.size > 0) {
      throw new InvalidRequestError("A store: false request has no memory to continue: send the whole conversation as input, or drop store: false.", {
        param: previous ? "previous_response_id" : conversation ? "conversation" : "input",
      });
    }
    return { session: undefined, conversation: undefined, previous: undefined };
  }
  if (previous) {
    const session = sessionOfId(previous, "resp");
    // Not an id of a stored response of ours: nothing to continue.
    if (!session) throw new NotFoundError(`No response '${previous.slice(0, 80)}'.`, { param: "previous_response_id" });
    return { session, conversation: undefined, previous };
  }
  if (conversation) return { session: validId(conversation, "conversation"), conversation, previous: undefined };
  if (sessionHeader !== undefined) return { session: validId(sessionHeader, "X-Session-Id"), conversation: undefined, previous: undefined };
  return { session: referenced ?? newSessionId(), conversation: undefined, previous: undefined };
}
