import { execFile, spawn, type ChildProcess } from "node:child_process";
import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { promisify } from "node:util";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../dev/ports";
import { needsBrowser, noBrowser } from "../support/prerequisites";

const run = promisify(execFile);

/** The text a streamed answer spells out, from its raw SSE. */
function streamedText(sse: string): string {
  return sse
    .split("\n\n")
    .filter((event) => event.startsWith("data: {"))
    .map((event) => JSON.parse(event.slice(6)).choices[0]?.delta?.content ?? "")
    .join("");
}

/**
 * `npm run dev` exactly as a newcomer runs it (no Redis, no provider, nothing configured), then
 * used as they would: the printed curl line, the demo widget in a real browser, and Ctrl-C.
 */
describe("npm run dev", () => {
  let child: ChildProcess;
  let output = "";
  let port: number;
  let browser: Browser | undefined;

  beforeAll(async () => {
    port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
    for (const name of ["REDIS_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "PROXY_API_KEYS", "COSMOS_ENDPOINT", "JWT_SECRET"]) {
      delete env[name];
    }
    // Its own process group, as in a terminal, so Ctrl-C (SIGINT to the group) reaches npm and its children.
    child = spawn("npm", ["run", "dev"], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    const collect = (chunk: Buffer) => (output += chunk.toString());
    child.stdout!.on("data", collect);
    child.stderr!.on("data", collect);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", () => output.includes("Ctrl-C stops everything.") && resolve());
      child.once("exit", (code) => reject(new Error(`npm run dev exited (${code}):\n${output}`)));
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    try {
      if (child.pid) process.kill(-child.pid, "SIGKILL"); // whatever a failed run left behind
    } catch {
      // the group is already gone
    }
  });

  it("prints the URL, a key and a curl line that works, with memory", async () => {
    expect(output).toContain(`http://127.0.0.1:${port}/v1`);
    expect(output).toMatch(/in-memory/);
    expect(output).toMatch(/Cosmos DB emulator/);
    expect(output).toMatch(/mock model/);
    const curl = output.slice(output.indexOf("curl -N"), output.indexOf("\n\n", output.indexOf("curl -N"))).trim();
    expect(curl).toMatch(/^curl -N/);

    const first = await run("bash", ["-c", curl]);
    expect(first.stdout).toContain("data: [DONE]");
    expect(streamedText(first.stdout)).toContain("I can see 0 earlier messages");
    const second = await run("bash", ["-c", curl]);
    expect(streamedText(second.stdout)).toContain("I can see 2 earlier messages");

    // Widget tokens are on (the demo's), so without ALLOWED_MODELS widgets get DEFAULT_MODEL alone,
    // and /v1/models says so. (Without widget tokens it is the upstream's list: test/worker/auth-config.test.ts.)
    const models = await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { Authorization: "Bearer sk-concierge-dev" } });
    expect(((await models.json()) as { data: Array<{ id: string }> }).data.map((m) => m.id)).toEqual(["mock-small"]);
  });

  it.skipIf(noBrowser)(needsBrowser("serves a demo widget that chats, remembers the session across a reload, and uses saved preferences"), async () => {
    const demo = output.match(/http:\/\/127\.0\.0\.1:\d+\/#token=[\w.-]+/)?.[0];
    expect(demo).toBeDefined();
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    });
    const page = await browser.newPage();
    await page.goto(demo!);
    await expect.poll(() => page.locator("#user").textContent()).toBe("demo-user");
    // The token left the address bar: it must not end up in history or screenshots.
    expect(page.url()).not.toContain("token=");

    await page.fill("#preferences", JSON.stringify({ language: "pt-PT" }));
    await page.click("#save-preferences");
    await page.locator("text=Saved.").waitFor();

    const assistant = page.locator("#messages li.assistant");
    await page.fill("#prompt", "My name is Ada");
    await page.click("#send");
    await page.locator("#status", { hasText: "Remembered" }).waitFor();
    await page.fill("#prompt", "What is my name?");
    await page.click("#send");
    await expect.poll(() => assistant.count()).toBe(2);
    await page.locator("#status", { hasText: "saw 2 earlier" }).waitFor();
    const second = await assistant.nth(1).textContent();
    expect(second).toContain('You said: "What is my name?"');
    expect(second).toContain("I can see 2 earlier messages");
    expect(second).toContain('"language":"pt-PT"');
    // npm run dev learns preferences from what was said, and the page shows what it learned.
    await expect.poll(() => page.inputValue("#preferences"), { timeout: 10_000 }).toContain('"name": "Ada"');
    expect(await page.locator("#summary").textContent()).toBe("Nothing yet."); // 4 messages fit the window

    // A reload keeps the session (its id is in localStorage) and shows the stored history.
    await page.reload();
    await expect.poll(() => page.locator("#messages li").count()).toBe(4);
    expect(await page.locator("#messages li.user").first().textContent()).toBe("My name is Ada");

    // A new session starts from nothing.
    await page.click("#new-session");
    await page.fill("#prompt", "Hello again");
    await page.click("#send");
    await page.locator("#status", { hasText: "saw 0 earlier" }).waitFor();
  });

  it("gives a widget whose connection dropped the rest of its reply, live, when it asks again", async () => {
    const base = `http://127.0.0.1:${port}`;
    const minted = await fetch(`${base}/v1/tokens`, {
      method: "POST",
      headers: { Authorization: "Bearer sk-concierge-dev", "Content-Type": "application/json" },
      body: JSON.stringify({ user: "dev-phone" }),
    });
    const { token } = (await minted.json()) as { token: string };
    // As widget.js sends a message: its token, its session, one Idempotency-Key for the message.
    const ask = (headers: Record<string, string>) =>
      fetch(`${base}/v1/chat/completions`, {
        method: "POST",
        headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", "X-Session-Id": "dev-phone-s1", "Idempotency-Key": "dev-phone-m1", ...headers },
        body: JSON.stringify({ stream: true, messages: [{ role: "user", content: "[mock:words=60] [mock:pace=20] tell me" }] }),
      });
    const first = await ask({});
    expect(first.headers.get("X-Reply-Resumable")).toBe("true");
    const reader = first.body!.getReader();
    let received = "";
    while (!received.includes('"content":"word5 "')) received += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel(); // the phone drops off the network
    // What it has: up to the last whole piece, whose number follows it.
    const last = [...received.matchAll(/^id: (\d+)\n\n/gm)].at(-1)!;
    const [shown, lastId] = [received.slice(0, last.index), last[1]!];

    const again = await ask({ "Last-Event-ID": lastId });
    expect(again.headers.get("X-Reply-Resumed")).toBe("true");
    const rest = await again.text();
    expect(rest).toContain("data: [DONE]");
    expect(streamedText(shown) + streamedText(rest)).toBe(Array.from({ length: 60 }, (_, i) => `word${i + 1}`).join(" "));
  });

  it("stops everything on Ctrl-C", async () => {
    process.kill(-child.pid!, "SIGINT");
    await new Promise((resolve) => child.once("exit", resolve));
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    // npm returns at once; its children (wrangler, workerd, esbuild) finish shutting down just after.
    let leftovers: string[] = [];
    for (let attempt = 0; attempt < 100; attempt++) {
      const { stdout } = await run("ps", ["-eo", "pgid=,comm="]);
      leftovers = stdout.split("\n").filter((line) => line.trim().startsWith(`${child.pid} `));
      if (leftovers.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(leftovers).toEqual([]);
    // The stack's own shutdown ran: it said so, and the folder holding the worker's secrets is gone.
    expect(output).toContain("concierge: stopping...");
    expect(readdirSync(tmpdir()).filter((name) => name.startsWith(`concierge-${port}-`))).toEqual([]);
  });
});
