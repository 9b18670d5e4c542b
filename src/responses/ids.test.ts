import { describe, expect, it } from "vitest";
import { inputItemId, newId, sessionOfId } from "./ids";

describe("response and item ids", () => {
  it("carry their session, and give it back", () => {
    const id = newId("resp", "s_a:b.c-d_e");
    expect(id).toMatch(/^resp_[0-9a-f]{32}_s_a:b\.c-d_e$/);
    expect(sessionOfId(id)).toBe("s_a:b.c-d_e");
    expect(sessionOfId(id, "resp")).toBe("s_a:b.c-d_e");
    expect(sessionOfId(id, "msg")).toBeUndefined();
  });

  it("give input items ids that name no session", () => {
    const item = inputItemId(newId("resp", "s_1"), "msg", 0, 0);
    expect(item).toMatch(/^msg_in_[0-9a-f]{32}_0$/);
    expect(sessionOfId(item)).toBeUndefined();
    expect(sessionOfId(inputItemId(newId("resp", "s_1"), "fc", 2, 1))).toBeUndefined();
  });

  it.each(["resp_0123456789abcdef0123456789abcdef", "resp_short_s_1", "chatcmpl_0123456789abcdef0123456789abcdef_s_1", "resp_0123456789abcdef0123456789abcdef_a/b", "resp_0123456789abcdef0123456789abcdef_.."])(
    "name no session in %s",
    (id) => expect(sessionOfId(id)).toBeUndefined(),
  );
});
