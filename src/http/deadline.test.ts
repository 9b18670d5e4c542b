import { describe, expect, it } from "vitest";
import { DeadlineExceeded, withDeadline } from "./deadline";

const never = new Promise<never>(() => {});

describe("withDeadline", () => {
  it("passes the work's result and its failure through", async () => {
    await expect(withDeadline(Promise.resolve(42), 1000)).resolves.toBe(42);
    await expect(withDeadline(Promise.reject(new Error("boom")), 1000)).rejects.toThrow("boom");
  });

  it("gives up on work that does not finish in time", async () => {
    await expect(withDeadline(never, 10, undefined, "the read")).rejects.toThrow(new DeadlineExceeded("the read did not finish within 10 ms"));
  });

  it("gives up when the signal aborts, or has already", async () => {
    const controller = new AbortController();
    const waiting = withDeadline(never, 60_000, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toBeInstanceOf(DeadlineExceeded);
    await expect(withDeadline(never, 60_000, AbortSignal.abort())).rejects.toBeInstanceOf(DeadlineExceeded);
  });
});
