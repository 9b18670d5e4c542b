import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { injectFault, requestsThrough, startFaultProxy, type FaultProxy } from "../../dev/fault-proxy";
import { startMockLlm, type MockLlm, type RecordedRequest } from "../../dev/mock-llm/server";
import type { Stack } from "../../dev/stack";
import { SUMMARY_INSTRUCTION } from "../../src/memory/summary-prompt";
import { directRedis, uniqueId } from "../support/context";
import { startSecondWorker } from "../support/second-worker";

// A worker of its own with SUMMARY_MODE on and a small window, so a few turns already push
// messages out of it; its model sits behind a fault proxy, so the summariser can be made to fail.
let mock: MockLlm;
let upstream: FaultProxy;
let worker: Stack;
const redis = directRedis();
const MOCK_KEY = "sk-summary-mock";

beforeAll(async () => {
  mock = await startMockLlm({ apiKey: MOCK_KEY });
  upstream = await startFaultProxy(new URL(mock.url).origin);
  worker = await startSecondWorker({
    apiKey: "sk-summaries",
    modelUrl: `${upstream.url}/v1`,
    modelKey: MOCK_KEY,
    env: { SUMMARY_MODE: "on", SUMMARY_MAX_TOKENS: "512", HISTORY_MAX_MESSAGES: "6", UPSTREAM_TIMEOUT_MS: "1500" },
  });
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await upstream?.close();
  await mock?.close();
  await redis.quit();
});

const turn = (user: string, session: string, content: string) =>
  fetch(`${worker.url}/v1/chat/completions`, {
    method: "POST",
    headers: { Authorization: "Bearer sk-summaries", "X-User-Id": user, "X-Session-Id": session, "Content-Type": "application/json" },
    body: JSON.stringify({ messages: [{ role: "user", content }] }),
  });

type Message = { role: string; content: string };
const isSummaryCall = (r: RecordedRequest) => (r.body as { messages: Message[] }).messages[0]?.content === SUMMARY_INSTRUCTION;
const summaryCalls = (marker: string) => mock.requests.filter((r) => isSummaryCall(r) && JSON.stringify(r.body).includes(marker));
const chatCall = (text: string) => mock.requests.find((r) => !isSummaryCall(r) && (r.body as { messages: Message[] }).messages.at(-1)?.content === text);
const session = async (user: string, id: string) => {
  const res = await fetch(`${worker.url}/v1/sessions/${id}`, { headers: { Authorization: "Bearer sk-summaries", "X-User-Id": user } });
  return (await res.json()) as { messages: Message[]; summary: string | null; summary_covers: number };
};
/** Waits until no fold is running for the session (each turn's fold runs after its answer). */
const settled = (user: string, id: string) => expect.poll(() => redis.exists(`session:{${user}}:{${id}}:summary-lock`), { timeout: 5000 }).toBe(0);

describe("rolling summaries", () => {
  it("keep a fact from turn 1 through 40 turns: it reaches the model in the system message, not in the window", async () => {
    const user = uniqueId("sum40");
    const fact = `my secret word is PAPAYA-${user}`;
    for (let i = 1; i <= 40; i++) {
      const res = await turn(user, "long", i === 1 ? fact : `turn ${i} ${user}`);
      expect(res.status).toBe(200);
      await settled(user, "long");
    }
    const last = chatCall(`turn 40 ${user}`)!;
    const messages = (last.body as { messages: Message[] }).messages;
    expect(messages.length).toBeLessThanOrEqual(6);
    expect(messages[0]!.content).toContain("Summary of the conversation so far:");
    expect(messages[0]!.content).toContain(`PAPAYA-${user}`);
    expect(messages.slice(1).some((m) => m.content.includes("PAPAYA"))).toBe(false);

    // Every message is in the window's reach or in the summary, and none in both.
    const stored = await session(user, "long");
    expect(stored.summary).toContain(`PAPAYA-${user}`);
    const folded = summaryCalls(user).flatMap((r) => [...JSON.stringify(r.body).matchAll(/user: turn (\d+)/g)].map((m) => Number(m[1])));
    expect(new Set(folded).size).toBe(folded.length); // no message folded twice
    expect(stored.summary_covers).toBeGreaterThan(60);
    expect(stored.summary_covers).toBeLessThanOrEqual(80 - (messages.length - 2));
  });

  it("fold what a session's first turn seeded beyond the window, so the next turn's model has it", async () => {
    const user = uniqueId("sumseed");
    const earlier = Array.from({ length: 8 }, (_, i) => [
      { role: "user", content: `seeded question ${i + 1} ${user}` },
      { role: "assistant", content: `seeded answer ${i + 1}` },
    ]).flat();
    const first = await fetch(`${worker.url}/v1/chat/completions`, {
      method: "POST",
      headers: { Authorization: "Bearer sk-summaries", "X-User-Id": user, "X-Session-Id": "seeded", "Content-Type": "application/json" },
      body: JSON.stringify({ messages: [...earlier, { role: "user", content: `question A ${user}` }] }),
    });
    expect(first.status).toBe(200);
    expect(Number(first.headers.get("X-History-Dropped"))).toBeGreaterThan(0);
    await expect.poll(() => summaryCalls(`seeded question 1 ${user}`).length, { timeout: 5000 }).toBe(1);
    await settled(user, "seeded");
    expect((await turn(user, "seeded", `question B ${user}`)).status).toBe(200);
    const system = (chatCall(`question B ${user}`)!.body as { messages: Message[] }).messages[0]!.content;
    expect(system).toContain(`seeded question 1 ${user}`);
    // Turn B's own fold (the window now leaves out seeded question 7) ends before the next test's faults.
    await expect.poll(() => summaryCalls(`seeded question 7 ${user}`).length, { timeout: 5000 }).toBe(1);
    await settled(user, "seeded");
  });

  it("leave history intact when the summariser fails or stalls, and a later turn folds it", async () => {
    const user = uniqueId("sumfail");
    await injectFault(upstream.url, { match: SUMMARY_INSTRUCTION.slice(0, 40), mode: "error", times: 1 });
    await injectFault(upstream.url, { match: SUMMARY_INSTRUCTION.slice(0, 40), mode: "hang", times: 1 });
    const attempts = () => requestsThrough(upstream.url, SUMMARY_INSTRUCTION.slice(0, 40)).then((paths) => paths.length);
    const before = await attempts();
    // The n-th fold has reached the summariser and let go of its lock. (The lock alone is no sign:
    // right after a turn's answer its fold may not have taken it yet.)
    const tried = async (n: number) => {
      await expect.poll(async () => (await attempts()) - before, { timeout: 10_000 }).toBeGreaterThanOrEqual(n);
      await settled(user, "f");
    };
    for (let i = 1; i <= 4; i++) expect((await turn(user, "f", `fact ${i} ${user}`)).status).toBe(200);
    // Turn 4 is the first whose window drops something: its fold fails (500).
    await tried(1);
    expect((await session(user, "f")).summary).toBeNull();
    expect((await turn(user, "f", `fact 5 ${user}`)).status).toBe(200); // this fold stalls past the timeout
    await tried(2);
    let stored = await session(user, "f");
    expect(stored.summary).toBeNull();
    expect(stored.messages).toHaveLength(10); // nothing lost meanwhile
    expect((await turn(user, "f", `fact 6 ${user}`)).status).toBe(200); // and this one folds
    await tried(3);
    stored = await session(user, "f");
    expect(stored.summary).toContain(`fact 1 ${user}`);
    expect((await attempts()) - before).toBe(3); // the failed, the stalled, the one that folded
    expect(summaryCalls(user)).toHaveLength(1);
  });

  it("never fold the same messages twice when turns race in one session", async () => {
    const user = uniqueId("sumrace");
    for (let i = 1; i <= 3; i++) expect((await turn(user, "r", `seed ${i} ${user}`)).status).toBe(200);
    await settled(user, "r");
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => turn(user, "r", `race ${i} ${user}`)));
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(200));
    await settled(user, "r");
    expect((await turn(user, "r", `after ${user}`)).status).toBe(200);
    await settled(user, "r");
    const stored = await session(user, "r");
    const said = stored.summary!.split(" | ");
    expect(new Set(said).size).toBe(said.length);
    // Summary and window meet exactly: the summary holds what it covers, in order, and nothing after.
    const covered = stored.messages.slice(0, stored.summary_covers).filter((m) => m.role === "user").map((m) => m.content);
    expect(said).toEqual(covered);
    expect(stored.messages).toHaveLength(2 * (3 + 6 + 1));
  });
});
