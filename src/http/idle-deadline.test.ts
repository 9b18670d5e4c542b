import { describe, expect, it } from "vitest";
import { DeadlineExceeded } from "./deadline";
import { IdleDeadline } from "./idle-deadline";

const never = new Promise<never>(() => {});
const after = (ms: number) => new Promise<string>((resolve) => setTimeout(() => resolve("late"), ms));

describe("IdleDeadline", () => {
  it("passes each wait's result and failure through", async () => {
    const deadline = new IdleDeadline(1000, "the read");
    await expect(deadline.wait(Promise.resolve(1))).resolves.toBe(1);
    await expect(deadline.wait(Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    deadline.stop();
  });

  it("fails a wait that lasts too long, and every wait after it", async () => {
    const deadline = new IdleDeadline(20, "the read");
    await expect(deadline.wait(never)).rejects.toThrow(new DeadlineExceeded("the read did not finish within 20 ms"));
    await expect(deadline.wait(Promise.resolve(1))).rejects.toBeInstanceOf(DeadlineExceeded);
    deadline.stop();
  });

  it("times each wait on its own: many short ones add up past the deadline without failing", async () => {
    const deadline = new IdleDeadline(40, "the read");
    for (let i = 0; i < 8; i++) await expect(deadline.wait(after(10))).resolves.toBe("late");
    deadline.stop();
  });

  it("does not count the time between waits", async () => {
    const deadline = new IdleDeadline(30, "the write");
    await deadline.wait(Promise.resolve(1));
    await after(60);
    await expect(deadline.wait(after(5))).resolves.toBe("late");
    deadline.stop();
  });

  it("leaves no rejection unhandled from work handed to it after it failed", async () => {
    const unhandled: unknown[] = [];
    const listener = (event: PromiseRejectionEvent) => unhandled.push(event.reason);
    addEventListener("unhandledrejection", listener);
    const deadline = new IdleDeadline(60_000, "the write");
    deadline.stop();
    await expect(deadline.wait(Promise.reject(undefined))).rejects.toThrow(new DeadlineExceeded("the write was stopped"));
    await new Promise((resolve) => setTimeout(resolve, 20));
    removeEventListener("unhandledrejection", listener);
    expect(unhandled).toEqual([]);
  });

  it("fails a wait still in progress when stopped", async () => {
    const deadline = new IdleDeadline(60_000, "the read");
    const waiting = deadline.wait(never);
    deadline.stop();
    await expect(waiting).rejects.toThrow(new DeadlineExceeded("the read was stopped"));
  });

});
