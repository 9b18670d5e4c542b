import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { KeepAlive } from "./keep-alive";

const object = (name: string) => env.SESSION_TURNS.get(env.SESSION_TURNS.idFromName(name));

describe("KeepAlive, in a SessionTurns object's storage", () => {
  it("arms an alarm for work still going after a beat, beats while it lasts, and stops when it is done", async () => {
    await runInDurableObject(object("keep-alive-beats"), async (_instance, state) => {
      let busy = true;
      const keepAlive = new KeepAlive(state.storage, { busy: () => busy, everyMs: 50 });
      keepAlive.watch();
      expect(await state.storage.getAlarm()).toBeNull(); // nothing is written before a beat has passed
      await expect.poll(() => state.storage.getAlarm(), { timeout: 5000, interval: 10 }).not.toBeNull();
      await state.storage.deleteAlarm(); // as the alarm's firing does
      await keepAlive.beat();
      expect(await state.storage.getAlarm()).toBeGreaterThan(Date.now());
      await state.storage.deleteAlarm();
      busy = false;
      await keepAlive.beat();
      expect(await state.storage.getAlarm()).toBeNull();
    });
  });

  it("writes nothing for work done within a beat", async () => {
    await runInDurableObject(object("keep-alive-short"), async (_instance, state) => {
      let busy = true;
      const keepAlive = new KeepAlive(state.storage, { busy: () => busy, everyMs: 30 });
      keepAlive.watch();
      busy = false;
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await state.storage.getAlarm()).toBeNull();
    });
  });

  it("a SessionTurns object with no reply streaming lets its alarm lapse", async () => {
    const stub = object("keep-alive-idle");
    await runInDurableObject(stub, (_instance, state) => state.storage.setAlarm(Date.now() + 60_000));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    await runInDurableObject(stub, async (_instance, state) => expect(await state.storage.getAlarm()).toBeNull());
  });
});
