import { describe, expect, it } from "vitest";
import { isResponseId, newId, sessionOfId } from "./ids";

describe("response and item ids", () => {
  it("carry their session, and give it back", () => {
    const id = newId("resp", "s_a:b.c-d_e");
    expect(id).toMatch(/^resp_[0-9a-f]{32}_s_a:b\.c-d_e$/);
    expect(sessionOfId(id)).toBe("s_a:b.c-d_e");
    expect(sessionOfId(id, "resp")).toBe("s_a:b.c-d_e");
    expect(sessionOfId(id, "msg")).toBeUndefined();
    expect(isResponseId(id)).toBe(true);
  });

  it.each(["resp_0123456789abcdef0123456789abcdef", "resp_short_s_1", "chatcmpl_0123456789abcdef0123456789abcdef_s_1", "resp_0123456789abcdef0123456789abcdef_a/b", "resp_0123456789abcdef0123456789abcdef_.."])(
    "name no session in %s",
    (id) => expect(sessionOfId(id)).toBeUndefined(),
  );
});
