/**
 * Recall indexes for the bench: synthetic messages whose words follow a Zipf law (as a language's
 * do, so some posting lists are long), indexed with the worker's own INDEX_SCRIPT, in sessions
 * other than the one a bench turn runs in, so every turn's search has a user's whole history to rank.
 */
import { INDEX_SCRIPT } from "../src/memory/recall-index";
import { recallTerms } from "../src/memory/recall-terms";
import { keys } from "../src/redis/keys";

const VOCABULARY = 5000;

/** A deterministic generator, so two runs index the same messages. */
export function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

/** Word ranks drawn by Zipf's law (s = 1): rank r with probability ~ 1/r. */
export function zipf(next: () => number): () => number {
  const cumulative: number[] = [];
  let sum = 0;
  const total = Array.from({ length: VOCABULARY }, (_, r) => 1 / (r + 1)).reduce((a, b) => a + b, 0);
  for (let r = 0; r < VOCABULARY; r++) cumulative.push((sum += 1 / (r + 1) / total));
  return () => {
    const x = next();
    let [lo, hi] = [0, VOCABULARY - 1];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export const word = (rank: number) => `word${rank}x`;

/** A message of 15 to 39 words; with `mixIn`, each word is one of those one time in twenty. */
export function message(draw: () => number, next: () => number, mixIn: readonly string[] = []): string {
  return Array.from({ length: 15 + Math.floor(next() * 25) }, () => (mixIn.length && next() < 0.05 ? mixIn[Math.floor(next() * mixIn.length)]! : word(draw()))).join(" ");
}

/** INDEX_SCRIPT's arguments for `texts`, as recall-index.ts builds them. */
export function indexArgs(texts: string[], at: number): string[] {
  return texts.flatMap((text, i) => {
    const terms = [...recallTerms(text)];
    return [JSON.stringify({ role: i % 2 ? "assistant" : "user", text, at }), terms.map(([t, n]) => `${t}:${n}`).join(" "), String(terms.reduce((s, [, n]) => s + n, 0))];
  });
}

export const recallKeys = (user: string, session: string) => [
  keys.recall.postings(user),
  keys.recall.messages(user),
  keys.recall.meta(user),
  keys.recall.order(user),
  keys.recall.sessions(user),
  keys.recalled(user, session),
];

/**
 * Indexes `count` messages for each of `users` through the Upstash server at `url`, 200 to a
 * session, with `mixIn` words among them so that searches find something.
 */
export async function seedRecall(url: string, token: string, users: readonly string[], count: number, mixIn: readonly string[]): Promise<void> {
  for (const [u, user] of users.entries()) {
    const [draw, next] = [zipf(random(u + 1)), random(u + 1000)];
    const commands: string[][] = [];
    for (let i = 0; i < count; i += 50) {
      const session = `old-${Math.floor(i / 200)}`;
      const texts = Array.from({ length: 50 }, () => message(draw, next, mixIn));
      commands.push(["EVAL", INDEX_SCRIPT, "6", ...recallKeys(user, session), String(count), "86400", session, "", ...indexArgs(texts, Date.now())]);
    }
    for (let start = 0; start < commands.length; start += 10) {
      const res = await fetch(`${url}/pipeline`, { method: "POST", headers: { Authorization: `Bearer ${token}` }, body: JSON.stringify(commands.slice(start, start + 10)) });
      if (!res.ok) throw new Error(`seeding recall: ${res.status}`);
    }
  }
}
