import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { loadConfig, type Env, type SessionSyncObjects } from "../config";
import { rememberSave, sessionSyncStart, sessionSyncToken } from "./session-sync";

// Each env object is a config of its own, and so an isolate of its own: its own memory of saves.
const isolate = (vars: Env = {}) => loadConfig({ SESSION_SYNC: env.SESSION_SYNC, SYNC_FALLBACK: "isolate", ...vars });
const withFallback = () => isolate({ SYNC_FALLBACK: "durable-object" });
let sessions = 0;
const newSession = () => `s${++sessions}-${Date.now()}`;

describe("where a turn that echoes no sync token finds the session's latest save", () => {
  it("with SYNC_FALLBACK=durable-object, in another isolate: the session's Durable Object has it", async () => {
    const [here, elsewhere] = [withFallback(), withFallback()];
    const session = newSession();
    await rememberSave(here, "alice", session, "token-1");
    expect(await sessionSyncToken(elsewhere, "alice", session, undefined)).toBe("token-1");
    await rememberSave(elsewhere, "alice", session, "token-2");
    expect(await sessionSyncToken(here, "alice", session, undefined)).toBe("token-2");
  });

  it("keeps sessions and users apart", async () => {
    const config = withFallback();
    const session = newSession();
    await rememberSave(config, "alice", session, "alice-token");
    expect(await sessionSyncToken(withFallback(), "bob", session, undefined)).toBeUndefined();
    expect(await sessionSyncToken(withFallback(), "alice", newSession(), undefined)).toBeUndefined();
  });

  it("prefers the token the client echoed, and then asks nothing", async () => {
    const session = newSession();
    await rememberSave(withFallback(), "alice", session, "stored");
    expect(await sessionSyncToken(withFallback(), "alice", session, "echoed")).toBe("echoed");
  });

  it("without the fallback, only the isolate that saved knows", async () => {
    const [here, elsewhere] = [isolate(), isolate()];
    const session = newSession();
    await rememberSave(here, "alice", session, "token-1");
    expect(await sessionSyncToken(here, "alice", session, undefined)).toBe("token-1");
    expect(await sessionSyncToken(elsewhere, "alice", session, undefined)).toBeUndefined();
  });

  it("forgets a session's token when the session would have expired", async () => {
    const session = newSession();
    await rememberSave(withFallback(), "alice", session, "token-1");
    const stub = env.SESSION_SYNC.get(env.SESSION_SYNC.idFromName(`alice\u0000${session}`));
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await sessionSyncToken(withFallback(), "alice", session, undefined)).toBeUndefined();
  });

  it("goes on as the isolate knows it when the object does not answer in time", async () => {
    const silent: SessionSyncObjects = { idFromName: (name) => name, get: () => ({ latest: () => new Promise(() => {}), saved: () => new Promise(() => {}) }) };
    const config = loadConfig({ SESSION_SYNC: silent, SYNC_FALLBACK: "durable-object", REDIS_TIMEOUT_MS: "50" });
    const session = newSession();
    await rememberSave(config, "alice", session, "token-1");
    expect(await sessionSyncToken(config, "alice", session, undefined)).toBe("token-1");
  });

  it("refuses SYNC_FALLBACK=durable-object without the binding, by name", () => {
    expect(() => loadConfig({ SYNC_FALLBACK: "durable-object" })).toThrow(/SESSION_SYNC/);
  });

  it("asks the object by default wherever SESSION_SYNC is bound, and only the isolate where it is not", async () => {
    const session = newSession();
    await rememberSave(loadConfig({ SESSION_SYNC: env.SESSION_SYNC }), "alice", session, "token-1");
    expect(await sessionSyncStart(loadConfig({ SESSION_SYNC: env.SESSION_SYNC }), "alice", session, undefined)).toEqual({ token: "token-1", source: "object" });
    expect(loadConfig({}).sessionSync).toBeUndefined();
    expect(await sessionSyncStart(loadConfig({}), "alice", session, undefined)).toEqual({ token: undefined, source: "none" });
  });

  it("says where the token came from, for the turn's log line", async () => {
    const [here, session] = [isolate(), newSession()];
    await rememberSave(here, "alice", session, "token-1");
    expect(await sessionSyncStart(here, "alice", session, "echoed")).toEqual({ token: "echoed", source: "echoed" });
    expect(await sessionSyncStart(here, "alice", session, undefined)).toEqual({ token: "token-1", source: "isolate" });
  });

  it("keeps the newer of two saves that raced, whichever reports last, in the object and in the isolate", async () => {
    const session = newSession();
    // The save that committed second (order 4) reports first; the one before it (order 2) late.
    await rememberSave(withFallback(), "alice", session, "token-newer", 4);
    await rememberSave(withFallback(), "alice", session, "token-older", 2);
    expect(await sessionSyncToken(withFallback(), "alice", session, undefined)).toBe("token-newer");
    await rememberSave(withFallback(), "alice", session, "token-next", 6);
    expect(await sessionSyncToken(withFallback(), "alice", session, undefined)).toBe("token-next");

    const here = isolate();
    await rememberSave(here, "alice", session, "token-newer", 4);
    await rememberSave(here, "alice", session, "token-older", 2);
    expect(await sessionSyncToken(here, "alice", session, undefined)).toBe("token-newer");
  });
});
