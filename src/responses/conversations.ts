import { Hono } from "hono";
import type { AppEnv } from "../auth/app-env";
import { userOf } from "../auth/caller";
import { readJsonBody } from "../http/body";
import { InvalidRequestError, NotFoundError } from "../http/errors";
import { validId } from "../http/ids";
import { utf8Length } from "../http/utf8";
import { invalidRequestFrom } from "../http/zod-issue";
import { sessionStore } from "../memory/session-store";
import { budgetLeft } from "../memory/save-budget";
import { toStoredMessage } from "../memory/stored-message";
import { refuseParts, requestLimits } from "../turn/widget-policy";
import { readerOfSession } from "../turn/session-reader";
import { itemsOf } from "./items";
import { pageOf } from "./list-page";
import { schemas } from "./schema";
import { translateInput } from "./translate-input";
import { refuseUnknownFields } from "./validate";

const seconds = (ms: number) => Math.floor(ms / 1000);

/**
 * The Conversations API as a view of sessions: a conversation id is a session id, its items are
 * the session's stored messages, and deleting one forgets the session. POST creates a session,
 * with its first items if given.
 */
export const conversationRoutes = new Hono<AppEnv>()
  .post("/", async (c) => {
    const config = c.get("config");
    const caller = c.get("caller");
    const user = userOf(caller);
    const { createConversation } = schemas();
    const body = await readJsonBody(c.req.raw, config.limits.maxBodyBytes);
    if (typeof body === "object" && body !== null && !Array.isArray(body)) refuseUnknownFields(body, createConversation.shape);
    const parsed = createConversation.safeParse(body);
    if (!parsed.success) throw invalidRequestFrom(parsed.error.issues);
    const items = parsed.data.items ?? [];
    const limits = requestLimits(caller, config);
    if (items.length > limits.maxMessages) throw new InvalidRequestError(`Too many items: at most ${limits.maxMessages} per request.`, { param: "items" });
    const metadata = parsed.data.metadata ?? {};
    const translated = translateInput(items, undefined, "items");
    // A conversation holds what was said: references have nothing to hold, and instructions go with each response.
    if (translated.references.size > 0) throw new InvalidRequestError("item_reference items cannot start a conversation: send the items themselves.", { param: "items" });
    // A widget's items are held to what its turns may send: they reach the model with the next one.
    if (caller.kind === "widget") refuseParts(translated.messages, "items");
    const messages = translated.messages.map(toStoredMessage);
    messages.forEach((message, index) => {
      if (message.role === "system" || message.role === "developer") {
        throw new InvalidRequestError("System and developer items are not stored: send them as instructions with each response.", { param: `items[${index}]`, code: "instructions_not_stored" });
      }
      if (utf8Length(JSON.stringify(message)) > limits.maxMessageBytes) {
        throw new InvalidRequestError(`items[${index}] is larger than ${limits.maxMessageBytes} bytes.`, { status: 413, param: `items[${index}]`, code: "message_too_large" });
      }
    });
    if (budgetLeft(messages) < 0) throw new InvalidRequestError("These items are too large to store in one conversation at once.", { status: 413, param: "items", code: "turn_too_large" });
    const id = `conv_${crypto.randomUUID().replaceAll("-", "")}`;
    const created = await sessionStore(config).createConversation(user, id, messages, metadata);
    return c.json({ id, object: "conversation", created_at: seconds(created.createdAt), metadata: created.metadata });
  })
  .get("/:id", async (c) => {
    const user = userOf(c.get("caller"));
    const id = validId(c.req.param("id"), "conversation_id");
    const config = c.get("config");
    const found = await sessionStore(config, await readerOfSession(c, user, id)).conversation(user, id);
    if (!found) throw new NotFoundError(`No conversation '${id}'.`, { param: "conversation_id" });
    return c.json({ id, object: "conversation", created_at: seconds(found.createdAt), metadata: found.metadata });
  })
  .delete("/:id", async (c) => {
    const user = userOf(c.get("caller"));
    const id = validId(c.req.param("id"), "conversation_id");
    if (!(await sessionStore(c.get("config")).remove(user, id))) throw new NotFoundError(`No conversation '${id}'.`, { param: "conversation_id" });
    return c.json({ id, object: "conversation.deleted", deleted: true });
  })
  .get("/:id/items", async (c) => {
    const user = userOf(c.get("caller"));
    const id = validId(c.req.param("id"), "conversation_id");
    const config = c.get("config");
    // A conversation created without items is a session with no messages: get() has it too.
    const session = await sessionStore(config, await readerOfSession(c, user, id)).get(user, id);
    if (!session) throw new NotFoundError(`No conversation '${id}'.`, { param: "conversation_id" });
    const first = session.firstPosition;
    const items = itemsOf(session.messages, (kind, index, call) => `${kind}_${first + index}${call ? `_${call}` : ""}`);
    return c.json(pageOf(items, c.req.query()));
  });
