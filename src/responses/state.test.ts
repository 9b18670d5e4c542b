import { describe, expect, it } from "vitest";
import type { ResponsesRequest } from "./schema";
import { sessionOfRequest } from "./state";

const previous = "resp_0123456789abcdef0123456789abcdef_s_prev";
const none = { referencedSession: undefined, references: new Set() };
const request = (fields: Partial<ResponsesRequest>): ResponsesRequest => ({ input: "hi", ...fields });

describe("sessionOfRequest", () => {
  it.each([
    { name: "previous_response_id: the session it belongs to", fields: { previous_response_id: previous }, header: "s_header", referenced: undefined, session: "s_prev", previousId: previous },
    { name: "conversation (string): that session", fields: { conversation: "conv_1" }, header: "s_header", referenced: undefined, session: "conv_1", previousId: undefined },
    { name: "conversation (object): that session", fields: { conversation: { id: "conv_2" } }, header: undefined, referenced: undefined, session: "conv_2", previousId: undefined },
    { name: "neither: X-Session-Id", fields: {}, header: "s_header", referenced: "s_ref", session: "s_header", previousId: undefined },
    { name: "no header: the session of referenced items", fields: {}, header: undefined, referenced: "s_ref", session: "s_ref", previousId: undefined },
    { name: "store: false: none", fields: { store: false }, header: "s_header", referenced: undefined, session: undefined, previousId: undefined },
  ])("$name", ({ fields, header, referenced, session, previousId }) => {
    const state = sessionOfRequest(request(fields), header, { referencedSession: referenced, references: new Set() });
    expect(state.session).toBe(session);
    expect(state.previous).toBe(previousId);
  });

  it("starts a new session when nothing names one", () => {
    expect(sessionOfRequest(request({}), undefined, none).session).toMatch(/^s_[0-9a-f]{32}$/);
  });

  it.each([
    { name: "previous_response_id with conversation", fields: { previous_response_id: previous, conversation: "c" }, status: 400, param: "conversation" },
    { name: "store: false with previous_response_id", fields: { store: false, previous_response_id: previous }, status: 400, param: "previous_response_id" },
    { name: "an id that names no stored response", fields: { previous_response_id: "resp_0123456789abcdef0123456789abcdef" }, status: 404, param: "previous_response_id" },
    { name: "an id that is not ours", fields: { previous_response_id: "resp_67ab" }, status: 404, param: "previous_response_id" },
    { name: "a conversation id that is no session id", fields: { conversation: "a/b" }, status: 400, param: "conversation" },
  ])("refuses $name", ({ fields, status, param }) => {
    expect(() => sessionOfRequest(request(fields), undefined, none)).toThrow(expect.objectContaining({ status, param }));
  });

  it("lets store: false take resent items of ours (they carry their content), but not references to them", () => {
    expect(sessionOfRequest(request({ store: false }), undefined, { referencedSession: "s_1", references: new Set() }).session).toBeUndefined();
    expect(() => sessionOfRequest(request({ store: false }), undefined, { referencedSession: "s_1", references: new Set([{}]) })).toThrow(expect.objectContaining({ status: 400, param: "input" }));
  });
});
