import { mkdirSync, readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { connect, createServer as createTcpServer, type Socket } from "node:net";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../dev/ports";
import type { Stack } from "../../dev/stack";
import { startMockLlm, type MockLlm } from "../../dev/mock-llm/server";
import { needsBrowser, noBrowser } from "../support/prerequisites";
import { startSecondWorker } from "../support/second-worker";
import { uniqueId } from "../support/context";

const KEY = "sk-widget-backend";
const MOCK_KEY = "sk-widget-mock";
const ARTIFACTS = join(import.meta.dirname, "..", "..", "test-results");

/**
 * A shop's page on a server of its own: it embeds the widget with the one script tag, and its
 * backend mints the visitor's widget token through POST /v1/tokens, as the README shows. Its CSS
 * tries to restyle every button and list on the page.
 */
async function shop(workerUrl: string, user: string, port = 0, options: { firstTokenBad?: boolean } = {}): Promise<{ url: string; server: Server; tokens: () => number }> {
  let tokens = 0;
  const server = createServer(async (req, res) => {
    if (req.method === "POST" && req.url === "/token") {
      // A token the proxy refuses, as an expired one would be: the widget must fetch a new one.
      if (tokens++ === 0 && options.firstTokenBad) {
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ token: "not.a.token", expires_at: new Date(Date.now() + 600_000).toISOString() }));
        return;
      }
      const minted = await fetch(`${workerUrl}/v1/tokens`, {
        method: "POST",
        headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
        body: JSON.stringify({ user, ttl_seconds: 600 }),
      });
      res.writeHead(minted.status, { "Content-Type": "application/json" }).end(await minted.text());
      return;
    }
    res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" }).end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>A shop</title>
<style>button, li, input { display: none !important; color: red !important; }</style></head>
<body><main><h1>A shop</h1><p>Things for sale.</p></main>
<script src="${workerUrl}/widget.js" data-endpoint="${workerUrl}" data-token-url="/token" data-title="Ask us" async></script>
</body></html>`);
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, tokens: () => tokens };
}

/** A TCP relay in front of the worker whose open connections can be cut, as a phone's are. */
async function cuttable(target: string): Promise<{ url: string; cut(): void; close(): void }> {
  const { hostname, port } = new URL(target);
  const open = new Set<Socket>();
  const server = createTcpServer((client) => {
    const upstream = connect(Number(port), hostname);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on("close", () => open.delete(socket));
      socket.on("error", () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    cut: () => open.forEach((socket) => socket.destroy()),
    close: () => {
      open.forEach((socket) => socket.destroy());
      server.close();
    },
  };
}

describe.skipIf(noBrowser)(needsBrowser("the widget (widget.js) in a real browser"), () => {
  let mock: MockLlm;
  let worker: Stack;
  let browser: Browser;
  let allowedPort: number;
  let renewingPort: number;
  const user = uniqueId("shopper");
  let allowed: Awaited<ReturnType<typeof shop>>;

  beforeAll(async () => {
    // Paced, so a reply takes long enough to cut off midway.
    mock = await startMockLlm({ apiKey: MOCK_KEY, chunkDelayMs: 40 });
    allowedPort = await freePort();
    renewingPort = await freePort();
    worker = await startSecondWorker({
      apiKey: KEY,
      modelUrl: mock.url,
      modelKey: MOCK_KEY,
      env: {
        JWT_SECRET: "widget-test-secret-0123456789abcdef0123",
        ALLOWED_ORIGINS: `http://127.0.0.1:${allowedPort}, http://127.0.0.1:${renewingPort}`,
        // Room for the other tests' turns (and, with resumable replies off, a dropped reply's polls); the rate-limit test goes past it.
        RATE_LIMIT_REQUESTS: "14",
        RATE_LIMIT_WINDOW_SECONDS: "60",
      },
    });
    allowed = await shop(worker.url, user, allowedPort);
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    });
  }, 90_000);

  afterAll(async () => {
    await browser?.close();
    allowed?.server.close();
    await worker?.stop();
    await mock?.close();
  });

  const openAllowed = (page: Page) => page.goto(allowed.url);

  /** Each session of `who` with its stored messages, as the shop's backend (its API key) sees them. */
  const storedSessions = async (who: string) => {
    const headers = { Authorization: `Bearer ${KEY}`, "X-User-Id": who };
    const { data } = (await (await fetch(`${worker.url}/v1/sessions`, { headers })).json()) as { data: Array<{ id: string }> };
    return Promise.all(data.map(async ({ id }) => ((await (await fetch(`${worker.url}/v1/sessions/${id}`, { headers })).json()) as { messages: unknown[] }).messages));
  };

  /** Opens the widget and sends `text`, as a visitor would. */
  const send = async (page: Page, text: string) => {
    await page.getByRole("button", { name: "Ask us" }).click();
    await page.getByLabel("Your message").fill(text);
    await page.getByLabel("Your message").press("Enter");
  };

  /** What the conversation shows, without the speaker labels screen readers get. */
  const history = async (page: Page) => page.locator("[data-concierge-widget] li > span:last-child").allTextContents();

  it("chats, streams the reply, and shows the conversation again after a reload", async () => {
    const page = await browser.newPage();
    await openAllowed(page);
    const launcher = page.getByRole("button", { name: "Ask us" });
    await launcher.click();
    const input = page.getByLabel("Your message");
    await expect.poll(() => input.evaluate((node) => node.getRootNode() instanceof ShadowRoot && node === (node.getRootNode() as ShadowRoot).activeElement)).toBe(true);
    await input.fill("Do you ship to Porto?");
    await input.press("Enter");
    await expect.poll(() => history(page), { timeout: 10_000 }).toEqual(["Do you ship to Porto?", expect.stringContaining('You said: "Do you ship to Porto?"')]);
    // Who said what, for screen readers too.
    expect(await page.locator("[data-concierge-widget] li").allTextContents()).toEqual(["You: Do you ship to Porto?", expect.stringMatching(/^Assistant: You said/)]);
    // Announced for screen readers once complete.
    await expect.poll(() => page.locator("[data-concierge-widget] [aria-live]").textContent()).toContain("You said");

    await page.reload();
    await page.getByRole("button", { name: "Ask us" }).click();
    await expect.poll(() => history(page)).toEqual(["Do you ship to Porto?", expect.stringContaining("You said")]);
    // Stored once: the session holds the one exchange.
    const sessions = await storedSessions(user);
    expect(sessions).toHaveLength(1);
    expect(sessions[0]).toHaveLength(2);

    // Escape closes the panel and gives focus back to the launcher.
    await page.keyboard.press("Escape");
    await expect.poll(() => page.getByRole("dialog").count()).toBe(0);
    expect(await launcher.evaluate((node) => (node.getRootNode() as ShadowRoot).activeElement === node)).toBe(true);

    mkdirSync(ARTIFACTS, { recursive: true });
    await launcher.click();
    await page.screenshot({ path: join(ARTIFACTS, "widget.png") });
    await page.close();
  });

  it("has no serious or critical accessibility violation (axe-core), open or closed", async () => {
    const page = await browser.newPage();
    await openAllowed(page);
    await page.addScriptTag({ content: readFileSync(join(import.meta.dirname, "..", "..", "node_modules", "axe-core", "axe.min.js"), "utf8") });
    const serious = () =>
      page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(context: Document): Promise<{ violations: Array<{ id: string; impact: string | null }> }> } }).axe;
        const { violations } = await axe.run(document);
        return violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id);
      });
    await page.getByRole("button", { name: "Ask us" }).waitFor();
    expect(await serious()).toEqual([]);
    await page.getByRole("button", { name: "Ask us" }).click();
    await page.getByLabel("Your message").waitFor();
    expect(await serious()).toEqual([]);
    await page.close();
  });

  it("renews a token the proxy refuses through the token URL, and the message still goes through", async () => {
    const renewing = await shop(worker.url, uniqueId("renewing"), renewingPort, { firstTokenBad: true });
    try {
      const page = await browser.newPage();
      await page.goto(renewing.url);
      await send(page, "still there?");
      await expect.poll(() => history(page), { timeout: 10_000 }).toEqual(["still there?", expect.stringContaining("You said")]);
      expect(renewing.tokens()).toBe(2);
      await page.close();
    } finally {
      renewing.server.close();
    }
  });

  it("says how long to wait when the user is over the rate limit", { timeout: 60_000 }, async () => {
    const page = await browser.newPage();
    const hasty = await shop(worker.url, uniqueId("hasty"), renewingPort);
    try {
      await page.goto(hasty.url);
      await page.getByRole("button", { name: "Ask us" }).click();
      const input = page.getByLabel("Your message");
      const status = page.locator("[data-concierge-widget] [role=status]");
      // RATE_LIMIT_REQUESTS is 14; a few more in case one was refused for another reason (uncounted).
      for (let i = 0; i < 20 && !(await status.textContent())?.includes("wait"); i++) {
        await input.fill(`message ${i}`);
        await input.press("Enter");
        await expect.poll(() => page.getByRole("button", { name: "Send" }).isEnabled()).toBe(true);
      }
      await expect.poll(() => status.textContent()).toMatch(/Please wait \d+ seconds? and try again/);
    } finally {
      await page.close();
      hasty.server.close();
    }
  });

  it("streams the rest of a reply cut off by a dropped connection after reconnecting, stored once", async () => {
    const reader = uniqueId("reader");
    const line = await cuttable(worker.url);
    const page = await browser.newPage();
    const resumed: string[] = [];
    page.on("response", (response) => {
      if (response.url().endsWith("/v1/chat/completions") && response.headers()["x-reply-resumed"] === "true") resumed.push(response.url());
    });
    // The page talks to the proxy through a connection the test can cut.
    const dropping = await shop(line.url, reader, renewingPort);
    const marker = uniqueId("everything");
    try {
      await page.goto(dropping.url);
      await send(page, `[mock:words=80] tell me ${marker}`);
      const reply = page.locator("[data-concierge-widget] li.assistant > span:last-child");
      await expect.poll(() => reply.textContent(), { timeout: 10_000 }).toMatch(/word3/);
      line.cut();
      await expect.poll(() => page.locator("[data-concierge-widget] [role=status]").textContent()).toContain("Reconnecting");
      expect(await reply.textContent()).not.toContain("word80");
      // Live: the rest arrives word by word, so the reply is seen further on but not yet finished.
      await expect.poll(async () => {
        const text = (await reply.textContent()) ?? "";
        return text.includes("word50") && !text.includes("word80");
      }, { timeout: 20_000, interval: 20 }).toBe(true);
      await expect.poll(() => reply.textContent(), { timeout: 20_000 }).toMatch(/word79 word80$/);
      expect(resumed).toHaveLength(1);
      // The same reply, each word once, from one generation, and the turn stored once.
      expect(await reply.textContent()).toBe(Array.from({ length: 80 }, (_, i) => `word${i + 1}`).join(" "));
      expect(mock.requests.filter((r) => JSON.stringify(r.body).includes(marker))).toHaveLength(1);
      expect(await history(page)).toHaveLength(2);
      expect((await storedSessions(reader))[0]).toHaveLength(2);
    } finally {
      await page.close();
      dropping.server.close();
      line.close();
    }
  });

  it("follows a long reply down as it streams, and a long conversation stays accessible", async () => {
    const reader = await shop(worker.url, uniqueId("long-reader"), renewingPort);
    try {
      const page = await browser.newPage({ viewport: { width: 375, height: 667 } });
      await page.goto(reader.url);
      await send(page, "[mock:words=150] tell me everything");
      const reply = page.locator("[data-concierge-widget] li.assistant > span:last-child");
      await expect.poll(() => reply.textContent(), { timeout: 20_000 }).toMatch(/word150$/);
      // The end of the reply is in view: the list followed it down.
      const list = page.locator("[data-concierge-widget] ol");
      expect(await list.evaluate((node) => node.scrollHeight - node.scrollTop - node.clientHeight)).toBeLessThan(4);
      await page.addScriptTag({ content: readFileSync(join(import.meta.dirname, "..", "..", "node_modules", "axe-core", "axe.min.js"), "utf8") });
      const violations = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run(context: Document): Promise<{ violations: Array<{ id: string; impact: string | null }> }> } }).axe;
        return (await axe.run(document)).violations.filter((v) => v.impact === "serious" || v.impact === "critical").map((v) => v.id);
      });
      expect(violations).toEqual([]);
      await page.close();
    } finally {
      reader.server.close();
    }
  });

  it("shows restored history above a message sent before it came", async () => {
    const early = await shop(worker.url, uniqueId("early"), renewingPort);
    try {
      const page = await browser.newPage();
      await page.goto(early.url);
      await send(page, "earlier question");
      await expect.poll(() => history(page), { timeout: 10_000 }).toEqual(["earlier question", expect.stringContaining("You said")]);
      // A slow network: the session's history comes after the visitor has typed again.
      await page.route("**/v1/sessions/**", async (route) => {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        await route.continue();
      });
      await page.reload();
      await send(page, "typed right away");
      await expect.poll(() => history(page), { timeout: 15_000 }).toEqual([
        "earlier question",
        expect.stringContaining('You said: "earlier question"'),
        "typed right away",
        expect.stringContaining('You said: "typed right away"'),
      ]);
      await page.close();
    } finally {
      early.server.close();
    }
  });

  it("says a message is too long, and gives it back to shorten", async () => {
    const wordy = await shop(worker.url, uniqueId("wordy"), renewingPort);
    try {
      const page = await browser.newPage();
      await page.goto(wordy.url);
      // Within the input's 4,000 characters, over the widget's 8,192 bytes: three bytes each.
      const text = "東".repeat(3000);
      await send(page, text);
      await expect.poll(() => page.locator("[data-concierge-widget] [role=status]").textContent(), { timeout: 10_000 }).toContain("too long");
      expect(await history(page)).toEqual([]);
      expect(await page.getByLabel("Your message").inputValue()).toBe(text);
      await page.close();
    } finally {
      wordy.server.close();
    }
  });

  it("gets nothing on a page whose origin is not allowed", async () => {
    const stranger = uniqueId("stranger");
    const elsewhere = await shop(worker.url, stranger);
    try {
      const page = await browser.newPage();
      await page.goto(elsewhere.url);
      await send(page, "hello?");
      await expect.poll(() => page.locator("[data-concierge-widget] [role=status]").textContent(), { timeout: 10_000 }).toMatch(/could not connect|connection was lost/);
      // Not sent, as far as the visitor can tell: the message is back in the input, not in the list.
      expect(await history(page)).toEqual([]);
      expect(await page.getByLabel("Your message").inputValue()).toBe("hello?");
      expect(await storedSessions(stranger)).toEqual([]);
      await page.close();
    } finally {
      elsewhere.server.close();
    }
  });
});
