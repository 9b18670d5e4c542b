/**
 * The words recall indexes and searches by: lower case, accents folded, common English words
 * left out, and a light stemming so that "moving" finds "move" and "orders" finds "order".
 * Numbers stay as they are ("#4471" is "4471"). The same function serves the index and the query,
 * so whatever it does, both sides agree.
 */

const STOPWORDS = new Set(
  (
    "a an and are as at be been but by can could did do does for from had has have he her hers him his how i if in into is it its " +
    "just me my no not of on or our ours she so than that the their them then there these they this those to too us was we were " +
    "what when where which who whom why will with would you your yours am im ive id ill youre dont about also any some all very " +
    "please thanks thank hi hello hey ok okay yes yeah"
  ).split(" "),
);

/** At most this many distinct terms per text: a pasted document must not make one message's postings huge. */
export const MAX_TERMS = 200;

function suffixless(word: string): string {
  if (word.length > 4 && word.endsWith("ies")) return `${word.slice(0, -3)}y`;
  if (word.length > 5 && word.endsWith("ing")) return undoubled(word.slice(0, -3));
  if (word.length > 4 && word.endsWith("ed")) return undoubled(word.slice(0, -2));
  if (word.length > 4 && /(ss|sh|ch|x|z)es$/.test(word)) return word.slice(0, -2);
  if (word.length > 3 && word.endsWith("s") && !word.endsWith("ss")) return word.slice(0, -1);
  return word;
}

/** "shipp" (from "shipped") is "ship"; "spell" stays. */
function undoubled(stem: string): string {
  return /([b-df-hj-km-np-tv-z])\1$/.test(stem) && !/(ll|ss|zz)$/.test(stem) ? stem.slice(0, -1) : stem;
}

function stem(word: string): string {
  if (/^\d+$/.test(word)) return word;
  const base = suffixless(word);
  // "move", "moved" and "moving" meet at "mov".
  return base.length > 3 && base.endsWith("e") ? base.slice(0, -1) : base;
}

/** A text's terms with how often each occurs, in order of first occurrence. */
export function recallTerms(text: string): Map<string, number> {
  const terms = new Map<string, number>();
  const words = text.normalize("NFKD").replace(/\p{M}+/gu, "").toLowerCase().split(/[^\p{L}\p{N}]+/u);
  for (const raw of words) {
    const word = raw.replace(/'/g, "");
    if (word.length < 2 && !/^\d$/.test(word)) continue;
    if (STOPWORDS.has(word)) continue;
    const term = stem(word).slice(0, 40);
    if (!terms.has(term) && terms.size >= MAX_TERMS) continue;
    terms.set(term, (terms.get(term) ?? 0) + 1);
  }
  return terms;
}
