import { afterEach, describe, expect, it, vi } from "vitest";
import { JwksUnavailableError, jwksKeys } from "../../src/auth/jwks";

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
