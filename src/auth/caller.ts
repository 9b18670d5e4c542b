import { InvalidRequestError } from "../http/errors";
import { validId } from "../http/ids";

/**
 * Who is calling, as authentication established it. The user id always comes from here, never
 * from anything else the client sends, so no one can reach another user's data.
 */
export type Caller =
  /** A trusted backend holding a proxy API key. It names the user (X-User-Id or the body's `user`). */
  | { kind: "api_key"; userId: string | undefined }
  /** A browser widget holding a token minted for exactly one user. */
  | { kind: "widget"; userId: string };

/**
 * The user a request acts for. A widget's user is in its token; a backend names one with
 * X-User-Id or, for chat, the body's `user` field (the header wins).
 */
export function userOf(caller: Caller, bodyUser?: string): string {
  const user = caller.userId ?? bodyUser;
  if (user === undefined) {
    throw new InvalidRequestError("Name the user this request is for: send the X-User-Id header.", {
      param: "X-User-Id",
      code: "missing_user",
    });
  }
  return validId(user, caller.userId === undefined ? "user" : "X-User-Id");
}
