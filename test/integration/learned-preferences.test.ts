import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startMockLlm, type MockLlm, type RecordedRequest } from "../../dev/mock-llm/server";
import type { Stack } from "../../dev/stack";
import { EXTRACTION_INSTRUCTION } from "../../src/memory/learn-preferences";
import { uniqueId } from "../support/context";
import { startSecondWorker } from "../support/second-worker";

// A worker of its own with MEMORY_EXTRACTION on (the shared one keeps it off, so other tests' model
// calls stay countable), on the shared Upstash server and Cosmos emulator, with its own mock model.
let mock: MockLlm;
let worker: Stack;
const logFile = join(mkdtempSync(join(tmpdir(), "concierge-learn-")), "worker.log");
const MOCK_KEY = "sk-learn-mock";
const KEY = "sk-learning";

beforeAll(async () => {
  mock = await startMockLlm({ apiKey: MOCK_KEY });
  worker = await startSecondWorker({
    apiKey: KEY,
    modelUrl: mock.url,
    modelKey: MOCK_KEY,
    workerLogFile: logFile,
    env: { MEMORY_EXTRACTION: "on", UPSTREAM_TIMEOUT_MS: "3000" },
  });
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await mock?.close();
});

const call = (path: string, user: string, init: RequestInit = {}) =>
  fetch(`${worker.url}${path}`, { ...init, headers: { Authorization: `Bearer ${KEY}`, "X-User-Id": user, "Content-Type": "application/json", ...init.headers } });
const turn = (user: string, session: string, content: string) =>
  call("/v1/chat/completions", user, { method: "POST", headers: { "X-Session-Id": session }, body: JSON.stringify({ messages: [{ role: "user", content }] }) });
const preferences = async (user: string) => ((await (await call("/v1/profile", user)).json()) as { preferences: Record<string, unknown> }).preferences;
type Body = { messages: Array<{ role: string; content: string }> };
const isExtraction = (r: RecordedRequest) => (r.body as Body).messages[0]?.content === EXTRACTION_INSTRUCTION;
const extractions = (marker: string) => mock.requests.filter((r) => isExtraction(r) && JSON.stringify(r.body).includes(marker));
const logLines = (event: string) => readFileSync(logFile, "utf8").split("\n").filter((line) => line.includes(`"event":"${event}"`));

describe("learned preferences", () => {
  it("learn a fact said in one session, and bring it into the next session's system message", async () => {
    const user = uniqueId("learn");
    expect((await turn(user, "a", `Hello there, my name is Ada. (${user})`)).status).toBe(200);
    await expect.poll(() => preferences(user), { timeout: 8000 }).toEqual({ name: "Ada" });
    const marker = `next session ${user}`;
    expect((await turn(user, "b", marker)).status).toBe(200);
    const asked = mock.requests.find((r) => !isExtraction(r) && (r.body as Body).messages.at(-1)?.content === marker)!;
    expect((asked.body as Body).messages[0]!.content).toContain('User preferences: {"name":"Ada"}');
    expect((asked.body as Body).messages[0]!.content).toContain("not instructions");
    await expect.poll(() => extractions(user).length, { timeout: 8000 }).toBe(2); // one per turn that said something
  });

  it("forget a key the user retracts (null in the patch), keeping the rest", async () => {
    const user = uniqueId("retract");
    await call("/v1/profile", user, { method: "PUT", body: JSON.stringify({ preferences: { city: "Porto", tone: "dry" } }) });
    expect((await turn(user, "a", "please forget my city now")).status).toBe(200);
    await expect.poll(() => preferences(user), { timeout: 8000 }).toEqual({ tone: "dry" });
  });

  it.each([
    ["prose", "not_json"],
    ["broken", "not_json"],
    ["array", "not_an_object"],
    ["huge", "too_large"],
  ])("change nothing when the extractor answers %s, and log why without content", async (kind, reason) => {
    const user = uniqueId(`bad-${kind}`);
    const before = logLines("preferences_not_learned").length;
    expect((await turn(user, "a", `my name is Mallory [mock:extract=${kind}] ${user}`)).status).toBe(200);
    await expect.poll(() => logLines("preferences_not_learned").length, { timeout: 8000 }).toBeGreaterThan(before);
    const line = logLines("preferences_not_learned").slice(before).find((l) => l.includes(`"reason":"${reason}"`));
    expect(line).toBeDefined();
    expect(line).not.toContain("Mallory");
    expect(await preferences(user)).toEqual({});
  });

  it("change nothing when the extractor fails, while the turn itself succeeded", async () => {
    const user = uniqueId("extract-500");
    const res = await turn(user, "a", `my name is Zed [mock:extract-status=500] ${user}`);
    expect(res.status).toBe(200);
    await expect.poll(() => extractions(user).length, { timeout: 8000 }).toBe(1);
    await expect.poll(() => logLines("preferences_not_learned").some((l) => l.includes("500")), { timeout: 8000 }).toBe(true);
    expect(await preferences(user)).toEqual({});
  });

  it("let an erasure during the extraction win: the user stays erased", async () => {
    const user = uniqueId("erase-learn");
    const before = logLines("preferences_not_learned").filter((l) => l.includes('"reason":"erased"')).length;
    expect((await turn(user, "a", `my name is Eve [mock:extract-delay=1500] ${user}`)).status).toBe(200);
    expect((await call("/v1/profile", user, { method: "DELETE" })).status).toBe(200);
    await expect.poll(() => logLines("preferences_not_learned").filter((l) => l.includes('"reason":"erased"')).length, { timeout: 8000 }).toBeGreaterThan(before);
    expect(await preferences(user)).toEqual({});
  });
});
