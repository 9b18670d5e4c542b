import { afterEach, describe, expect, it, vi } from "vitest";
import { JwksUnavailableError, jwksKeys } from "./jwks";

const key = (kid: string) => ({ kty: "RSA", kid, n: "x", e: "AQAB" });
let calls = 0;
function serve(answer: () => Response) {
  calls = 0;
  vi.stubGlobal("fetch", async () => {
    calls++;
    return answer();
  });
}
afterEach(() => vi.unstubAllGlobals());

const MINUTE = 60_000;

describe("jwksKeys", () => {
  it("fetches once, then serves known keys from the isolate for ten minutes", async () => {
    const url = "https://idp.test/a";
    serve(() => Response.json({ keys: [key("k1")] }));
    expect(await jwksKeys(url, "k1", 0)).toEqual([key("k1")]);
    expect(await jwksKeys(url, "k1", 9 * MINUTE)).toEqual([key("k1")]);
    expect(calls).toBe(1);
    await jwksKeys(url, "k1", 11 * MINUTE);
    expect(calls).toBe(2);
  });

  it("looks again for an unknown key (a rotation), but at most once a minute", async () => {
    const url = "https://idp.test/b";
    serve(() => Response.json({ keys: [key("k1")] }));
    await jwksKeys(url, "k1", 0);
    await jwksKeys(url, "rogue", 10_000);
    expect(calls).toBe(1);
    await jwksKeys(url, "rogue", 2 * MINUTE);
    await jwksKeys(url, "rogue2", 2 * MINUTE + 1000);
    expect(calls).toBe(2);
  });

  it("keeps serving the keys it has when the provider fails, without retrying on every request", async () => {
    const url = "https://idp.test/c";
    serve(() => Response.json({ keys: [key("k1")] }));
    await jwksKeys(url, "k1", 0);
    serve(() => new Response("down", { status: 503 }));
    expect(await jwksKeys(url, "k1", 20 * MINUTE)).toEqual([key("k1")]);
    expect(await jwksKeys(url, "k1", 20 * MINUTE + 1000)).toEqual([key("k1")]);
    expect(calls).toBe(1);
  });

  it("with no keys at all and the provider down, fails fast as unavailable (a 503, not a 401)", async () => {
    const url = "https://idp.test/d";
    serve(() => new Response("down", { status: 500 }));
    await expect(jwksKeys(url, "k1", 0)).rejects.toBeInstanceOf(JwksUnavailableError);
    await expect(jwksKeys(url, "k1", 1000)).rejects.toBeInstanceOf(JwksUnavailableError);
    expect(calls).toBe(1);
  });
});

describe("jwksKeys under concurrency", () => {
  /** A provider that answers only when told to, so many verifications are waiting at once. */
  function gated(answer: () => Response) {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    calls = 0;
    vi.stubGlobal("fetch", async () => {
      calls++;
      await gate;
      return answer();
    });
    return open;
  }
  const kids = (prefix: string) => Array.from({ length: 40 }, (_, i) => `${prefix}-${i}`);

  it("40 tokens naming 40 unknown keys at once make one fetch, whose keys every one of them gets", async () => {
    const url = "https://idp.test/stampede";
    const open = gated(() => Response.json({ keys: [key("k1")] }));
    const waiting = Promise.all(kids("unknown").map((kid) => jwksKeys(url, kid, 0)));
    open();
    expect(await waiting).toEqual(Array.from({ length: 40 }, () => [key("k1")]));
    expect(calls).toBe(1);
  });

  it("keeps to one look a minute for unknown keys however many arrive together", async () => {
    const url = "https://idp.test/rotation";
    serve(() => Response.json({ keys: [key("k1")] }));
    await jwksKeys(url, "k1", 0);

    const open = gated(() => Response.json({ keys: [key("k1"), key("k2")] }));
    const rotated = Promise.all(kids("a").map((kid) => jwksKeys(url, kid, 2 * MINUTE)));
    open();
    for (const keys of await rotated) expect(keys).toEqual([key("k1"), key("k2")]);
    expect(calls).toBe(1);

    await Promise.all(kids("b").map((kid) => jwksKeys(url, kid, 2 * MINUTE + 10_000)));
    expect(calls).toBe(1);
    await Promise.all(kids("c").map((kid) => jwksKeys(url, kid, 3 * MINUTE + 1000)));
    expect(calls).toBe(2);
  });

  describe("when the fetch in flight never finishes (its request was cancelled, and its I/O with it)", () => {
    afterEach(() => vi.useRealTimers());

    function hanging() {
      calls = 0;
      vi.stubGlobal("fetch", () => {
        calls++;
        return new Promise<never>(() => {});
      });
    }

    it("a token waiting on it gives up after the fetch timeout and is served the keys already known", async () => {
      const url = "https://idp.test/hung";
      serve(() => Response.json({ keys: [key("k1")] }));
      await jwksKeys(url, "k1", 0);
      vi.useFakeTimers();
      hanging();
      const waiting = jwksKeys(url, "rotated", 2 * MINUTE);
      await vi.advanceTimersByTimeAsync(2000);
      expect(await waiting).toEqual([key("k1")]);
    });

    it("with no keys known, a waiting token gets JwksUnavailableError (a 503), not an endless wait", async () => {
      const url = "https://idp.test/hung-cold";
      vi.useFakeTimers();
      hanging();
      const waiting = expect(jwksKeys(url, "k1", 0)).rejects.toBeInstanceOf(JwksUnavailableError);
      await vi.advanceTimersByTimeAsync(2000);
      await waiting;
    });

    it("later tokens do not wait on it, and a minute on, a new fetch replaces it", async () => {
      const url = "https://idp.test/abandoned";
      serve(() => Response.json({ keys: [key("k1")] }));
      await jwksKeys(url, "k1", 0);
      vi.useFakeTimers();
      hanging();
      void jwksKeys(url, "rotated", 2 * MINUTE).catch(() => {});
      // Timers stand still: a call that waited on the hung fetch would never return.
      expect(await jwksKeys(url, "rotated", 2 * MINUTE + 5000)).toEqual([key("k1")]);
      serve(() => Response.json({ keys: [key("k1"), key("rotated")] }));
      expect(await jwksKeys(url, "rotated", 3 * MINUTE + 5000)).toEqual([key("k1"), key("rotated")]);
      expect(calls).toBe(1);
    });
  });
});
