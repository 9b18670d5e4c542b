import { describe, expect, it } from "vitest";
import { outageBreaker, StoreSkipped } from "./outage-breaker";

const down = new Error("down");
const notFound = new Error("not found");
const isOutage = (error: unknown) => error === down;

function clock() {
  let t = 1_000;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe("outageBreaker", () => {
  it("skips the store for openMs after an outage, then lets one call try again", async () => {
    const time = clock();
    const breaker = outageBreaker({ openMs: 5_000, now: time.now });
    let calls = 0;
    const failing = () => {
      calls++;
      return Promise.reject(down);
    };

    await expect(breaker.run(failing, isOutage)).rejects.toBe(down);
    expect(breaker.openUntil()).toBe(6_000);
    await expect(breaker.run(failing, isOutage)).rejects.toBeInstanceOf(StoreSkipped);
    time.advance(4_999);
    await expect(breaker.run(failing, isOutage)).rejects.toBeInstanceOf(StoreSkipped);
    expect(calls).toBe(1);

    time.advance(1);
    await expect(breaker.run(failing, isOutage)).rejects.toBe(down); // the probe failed: open again
    expect(breaker.openUntil()).toBe(11_000);
    expect(calls).toBe(2);

    time.advance(5_000);
    await expect(breaker.run(() => Promise.resolve("ok"), isOutage)).resolves.toBe("ok");
    expect(breaker.openUntil()).toBeUndefined();
  });

  it("lets only one probe through at a time", async () => {
    const time = clock();
    const breaker = outageBreaker({ openMs: 10, now: time.now });
    await expect(breaker.run(() => Promise.reject(down), isOutage)).rejects.toBe(down);
    time.advance(10);

    let answer!: (value: string) => void;
    const probe = breaker.run(() => new Promise<string>((resolve) => (answer = resolve)), isOutage);
    await expect(breaker.run(() => Promise.resolve("second"), isOutage)).rejects.toBeInstanceOf(StoreSkipped);
    answer("first");
    await expect(probe).resolves.toBe("first");
    await expect(breaker.run(() => Promise.resolve("third"), isOutage)).resolves.toBe("third");
  });

  it.each([
    ["a failure that is not an outage (a 404) while closed", false],
    ["an outage with the breaker off", true],
  ])("stays closed after %s", async (_, off) => {
    const breaker = outageBreaker({ openMs: off ? 0 : 5_000 });
    await expect(breaker.run(() => Promise.reject(off ? down : notFound), isOutage)).rejects.toBeTruthy();
    expect(breaker.openUntil()).toBeUndefined();
    await expect(breaker.run(() => Promise.resolve(1), isOutage)).resolves.toBe(1);
  });

  it("closes when a probe is answered, even with a refusal that is not an outage", async () => {
    const time = clock();
    const breaker = outageBreaker({ openMs: 10, now: time.now });
    await expect(breaker.run(() => Promise.reject(down), isOutage)).rejects.toBe(down);
    time.advance(10);
    await expect(breaker.run(() => Promise.reject(notFound), isOutage)).rejects.toBe(notFound);
    expect(breaker.openUntil()).toBeUndefined();
  });

  it("stops skipping when told the store answered elsewhere", async () => {
    const breaker = outageBreaker({ openMs: 60_000 });
    await expect(breaker.run(() => Promise.reject(down), isOutage)).rejects.toBe(down);
    expect(breaker.openUntil()).toBeDefined();
    breaker.close();
    expect(breaker.openUntil()).toBeUndefined();
    await expect(breaker.run(() => Promise.resolve("answered"), isOutage)).resolves.toBe("answered");
  });
});
