/**
 * `npm run bench:recall`: how well cross-session recall brings a user's earlier words back.
 *
 * A synthetic multi-session set (20 users x 10 sessions, written here, deterministic): each user's
 * sessions hold ordinary small talk whose words overlap with four facts the user told in passing,
 * a single fact, a fact spread over two sessions, a "when did I..." fact, and a fact the user
 * later corrected, among near misses (the same kinds of words about other things). Each fact is
 * asked about twice, directly and in other words. Every turn goes through the proxy (`npm run dev`'s stack with RECALL=on) as a
 * chat client's turn; then each user asks each question outside any session (stateless: it
 * searches but adds nothing to what the next question searches), and the
 * prompt the model received is read back from the mock model.
 *
 * Reported per kind and overall: evidence recall (the share of the messages that answer the
 * question present in the prompt) and recalled tokens per turn (the estimate of the recall
 * message), against plain BM25 over the same raw messages at the same token budget (lower case
 * words, no stemming, no stop words, best first until the budget). Writes bench/results/recall.json.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startStack } from "../dev/stack";
import { RECALL_PREAMBLE } from "../src/turn/prompt";
import { estimateTokens } from "../src/messages/tokens";

const USERS = 20;
const SESSIONS = 10;
// Enough that a user's sessions hold several times RECALL_MAX_TOKENS: the budget has to choose.
const SMALL_TALK_PER_SESSION = 10;
const BUDGET = Number(process.env.RECALL_MAX_TOKENS ?? 1000);

type Kind = "single" | "spread" | "when" | "corrected";
interface Fact {
  kind: Kind;
  /** [session, text] of each message that answers the question. */
  evidence: Array<[number, string]>;
  question: string;
  /** The same question in other words: what a lexical ranking can miss. */
  paraphrase: string;
}

// Small talk whose words meet the facts' words, so finding the facts takes ranking, not luck.
const SMALL_TALK = [
  "Can you suggest a quick dinner recipe with chickpeas?",
  "What is a good stretch after a long flight or a long day at the desk?",
  "I need a polite email to reschedule a meeting with my team",
  "Recommend a podcast about history for my commute",
  "How do I get coffee stains out of a white shirt?",
  "What should I pack for a rainy weekend trip?",
  "Give me three ideas for a birthday present for a friend who likes books",
  "Is it better to water plants in the morning or the evening?",
  "Explain the difference between a Roth and a traditional retirement account",
  "What are some easy exercises I can do at home without equipment?",
  "Help me plan a budget for groceries this month",
  "Any tips for sleeping better when travelling across time zones?",
  "What is a good name for a small bakery?",
  "How long should I boil an egg for a soft yolk?",
  "Suggest a board game for four players that takes an hour",
  "What is the best way to learn vocabulary in a new language?",
  "I ordered too much takeout this week, suggest something healthy",
  "How do I fix a squeaky door hinge?",
];

const CITIES = ["Lisbon", "Porto", "Seville", "Lyon", "Turin", "Ghent", "Krakow", "Bergen", "Split", "Graz"];
const ITEMS = ["walnut desk", "standing lamp", "blue sofa", "espresso machine", "road bike", "wool rug", "bookshelf", "rice cooker", "office chair", "air purifier"];
const FLAWS = ["a scratched leg", "a cracked base", "a torn seam", "a leaking tank", "a bent wheel", "a stained corner", "a missing shelf", "a broken lid", "a wobbly armrest", "a rattling fan"];
const DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const SKILLS = ["Portuguese", "the cello", "pottery", "Japanese", "rock climbing", "watercolour painting", "Italian", "salsa dancing", "chess", "the ukulele"];
const DOCTORS = ["Dr. Alvarez", "Dr. Okafor", "Dr. Lindqvist", "Dr. Moreau", "Dr. Tanaka", "Dr. Novak", "Dr. Haddad", "Dr. Rossi", "Dr. Brennan", "Dr. Szabo"];

function factsOf(u: number): Fact[] {
  const pick = <T>(list: T[], offset: number) => list[(u * 7 + offset) % list.length]!;
  const [city, item, flaw, skill, doctor] = [pick(CITIES, 1), pick(ITEMS, 2), pick(FLAWS, 2), pick(SKILLS, 3), pick(DOCTORS, 4)];
  const [day, newDay] = [pick(DAYS, 0), pick(DAYS, 3)];
  return [
    { kind: "single", evidence: [[1, `By the way, my dentist is ${doctor} and my next check-up is in the spring`]], question: "What is the name of my dentist?", paraphrase: "Who looks after my teeth?" },
    {
      kind: "spread",
      evidence: [
        [2, `I ordered a ${item} online for the new flat`],
        [6, `The ${item} finally arrived but it came with ${flaw}`],
      ],
      question: `What was wrong with the ${item} I ordered?`,
      paraphrase: `Was the ${item} in good condition when it was delivered?`,
    },
    { kind: "when", evidence: [[3, `Last month I started learning ${skill} with a weekly class`]], question: `When did I start learning ${skill}?`, paraphrase: `How long have I been taking ${skill} lessons?` },
    {
      kind: "corrected",
      evidence: [
        [4, `My flight to ${city} leaves on ${day} morning`],
        [8, `Correction: the ${city} flight moved, it now leaves on ${newDay}`],
      ],
      question: `Which day does my flight to ${city} leave?`,
      paraphrase: `When am I travelling to ${city}?`,
    },
  ];
}

/** Near misses: the facts' kinds of words about other things, so a fact must win on its own terms. */
function distractorsOf(u: number): string[] {
  const other = <T>(list: T[], offset: number) => list[(u * 7 + offset + 5) % list.length]!;
  return [
    `I read that flights to ${other(CITIES, 1)} are cheaper if you leave on a ${other(DAYS, 2)}`,
    `My sister ordered a ${other(ITEMS, 2)} last year and it arrived in perfect shape`,
    `Is ${other(SKILLS, 3)} hard to start learning as an adult?`,
    `A friend says her dentist, ${other(DOCTORS, 4)}, is the best in town`,
    `The ${other(ITEMS, 6)} in the shop window had ${other(FLAWS, 6)}, so I did not buy it`,
    `We might fly to ${other(CITIES, 7)} next year, the flight is short`,
    `I started a new book last month about the history of maps`,
    `Correction to my shopping list: we need oat milk, not almond milk`,
  ];
}

/** What each user says, session by session: small talk and near misses, with the facts placed among them. */
function sessionsOf(u: number): string[][] {
  const near = distractorsOf(u);
  const sessions: string[][] = Array.from({ length: SESSIONS }, (_, s) => [
    ...Array.from({ length: SMALL_TALK_PER_SESSION }, (_, i) => SMALL_TALK[(u * 5 + s * 7 + i) % SMALL_TALK.length]!),
    near[s % near.length]!,
  ]);
  for (const fact of factsOf(u)) for (const [s, text] of fact.evidence) sessions[s]!.splice(2, 0, text);
  return sessions;
}

/** Plain BM25 over raw messages, best first until the budget: the baseline. */
function bm25(documents: string[], query: string, budget: number): string[] {
  const words = (text: string) => text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter(Boolean);
  const docs = documents.map(words);
  const average = docs.reduce((sum, d) => sum + d.length, 0) / Math.max(1, docs.length);
  const scores = docs.map((doc) => {
    let score = 0;
    for (const term of new Set(words(query))) {
      const df = docs.filter((d) => d.includes(term)).length;
      if (df === 0) continue;
      const tf = doc.filter((w) => w === term).length;
      const idf = Math.log(1 + (docs.length - df + 0.5) / (df + 0.5));
      score += (idf * tf * 2.2) / (tf + 1.2 * (0.25 + (0.75 * doc.length) / average));
    }
    return score;
  });
  const chosen: string[] = [];
  let used = 0;
  for (const i of scores.map((_, i) => i).sort((a, b) => scores[b]! - scores[a]!)) {
    if (scores[i]! <= 0) break;
    const cost = estimateTokens(documents[i]!) + 8;
    if (used + cost > budget) continue;
    used += cost;
    chosen.push(documents[i]!);
  }
  return chosen;
}

interface Tally {
  evidence: number;
  found: number;
  tokens: number;
  questions: number;
}
const tally = (): Tally => ({ evidence: 0, found: 0, tokens: 0, questions: 0 });

async function main(): Promise<void> {
  const stack = await startStack({
    devVars: false,
    workerOutput: false,
    env: { ...process.env, RECALL: "on", RECALL_MAX_TOKENS: String(BUDGET), RATE_LIMIT_REQUESTS: "0", SUMMARY_MODE: "off", MEMORY_EXTRACTION: "off" },
  });
  const run = `eval-${Date.now().toString(36)}`;
  /** A turn in `session`; without one, a stateless turn (X-Session-Store: false): it searches, but stores and indexes nothing. */
  const chat = async (user: string, session: string | undefined, content: string) => {
    const res = await fetch(`${stack.url}/v1/chat/completions`, {
      method: "POST",
      headers: {
        Authorization: `Bearer ${stack.apiKey}`,
        "Content-Type": "application/json",
        "X-User-Id": user,
        ...(session ? { "X-Session-Id": session } : { "X-Session-Store": "false" }),
      },
      body: JSON.stringify({ messages: [{ role: "user", content }] }),
    });
    if (!res.ok) throw new Error(`turn failed: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content;
  };
  type Group = Kind | "direct" | "paraphrased" | "all";
  const byKind = new Map<Group, { recall: Tally; bm25: Tally }>();
  const add = (kind: Group, side: "recall" | "bm25", evidence: number, found: number, tokens: number) => {
    const entry = byKind.get(kind) ?? { recall: tally(), bm25: tally() };
    byKind.set(kind, entry);
    Object.assign(entry[side], { evidence: entry[side].evidence + evidence, found: entry[side].found + found, tokens: entry[side].tokens + tokens, questions: entry[side].questions + 1 });
  };
  try {
    for (let u = 0; u < USERS; u++) {
      const user = `${run}-user${u}`;
      const said: string[] = [];
      for (const [s, messages] of sessionsOf(u).entries()) {
        for (const message of messages) said.push(message, await chat(user, `s${s}`, message));
      }
      const asked = factsOf(u).flatMap((fact) => [{ fact, text: fact.question, worded: "direct" as const }, { fact, text: fact.paraphrase, worded: "paraphrased" as const }]);
      for (const [q, { fact, text: question, worded }] of asked.entries()) {
        const marker = `[q-${run}-${u}-${q}]`;
        // Stateless, so one question's words and answer never become what the next one recalls.
        await chat(user, undefined, `${question} ${marker}`);
        const requests = (await (await fetch(`${new URL(stack.upstream.url).origin}/__mock/requests`)).json()) as Array<{ body: { messages: Array<{ content: unknown }> } }>;
        const prompt = requests.findLast((r) => JSON.stringify(r.body.messages.at(-1)?.content).includes(marker))!.body.messages;
        const recalled = String(prompt.find((m) => typeof m.content === "string" && m.content.startsWith(RECALL_PREAMBLE))?.content ?? "");
        const texts = fact.evidence.map(([, text]) => text);
        const found = texts.filter((text) => recalled.includes(JSON.stringify(text).slice(1, -1))).length;
        const tokens = recalled ? estimateTokens(recalled) : 0;
        const baseline = bm25(said, question, BUDGET);
        const baselineFound = texts.filter((text) => baseline.includes(text)).length;
        const baselineTokens = baseline.reduce((sum, text) => sum + estimateTokens(text) + 8, 0);
        for (const kind of [fact.kind, worded, "all"] as const) {
          add(kind, "recall", texts.length, found, tokens);
          add(kind, "bm25", texts.length, baselineFound, baselineTokens);
        }
      }
    }
  } finally {
    await stack.stop();
  }
  const report = Object.fromEntries(
    [...byKind].map(([kind, { recall, bm25: base }]) => [
      kind,
      {
        questions: recall.questions,
        recall: { evidence_recall: +(recall.found / recall.evidence).toFixed(3), tokens_per_turn: Math.round(recall.tokens / recall.questions) },
        bm25_baseline: { evidence_recall: +(base.found / base.evidence).toFixed(3), tokens_per_turn: Math.round(base.tokens / base.questions) },
      },
    ]),
  );
  const result = { generated_at: new Date().toISOString(), users: USERS, sessions_per_user: SESSIONS, recall_max_tokens: BUDGET, by_kind: report };
  console.log(JSON.stringify(result, null, 2));
  const dir = join(import.meta.dirname, "results");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "recall.json"), `${JSON.stringify(result, null, 2)}\n`);
}

await main();
