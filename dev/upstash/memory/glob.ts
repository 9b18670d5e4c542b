/**
 * Redis's glob matching (stringmatchlen in util.c), for KEYS: `*`, `?`, `[abc]`, `[^a-z]`, and
 * `\` to take the next character literally.
 */
export function globMatch(pattern: string, text: string): boolean {
  return matchFrom(pattern, 0, text, 0);
}

function matchFrom(pattern: string, p: number, text: string, t: number): boolean {
  while (p < pattern.length && t < text.length) {
    switch (pattern[p]) {
      case "*":
        while (pattern[p + 1] === "*") p++;
        if (p + 1 === pattern.length) return true;
        for (let rest = t; rest < text.length; rest++) if (matchFrom(pattern, p + 1, text, rest)) return true;
        return false;
      case "?":
        t++;
        break;
      case "[": {
        const end = matchClass(pattern, p + 1, text[t] ?? "");
        if (end === undefined) return false;
        p = end;
        t++;
        break;
      }
      case "\\":
        if (p + 1 < pattern.length) p++;
      // falls through: the escaped character is a literal
      default:
        if (pattern[p] !== text[t]) return false;
        t++;
    }
    p++;
    if (t === text.length) while (pattern[p] === "*") p++;
  }
  return p === pattern.length && t === text.length;
}

/** Matches `char` against the class starting at `p` (just past "["); the index of its "]" if it matches. */
function matchClass(pattern: string, p: number, char: string): number | undefined {
  const negated = pattern[p] === "^";
  if (negated) p++;
  let matched = false;
  for (;;) {
    if (p >= pattern.length) {
      // An unclosed class ends with the pattern, as in Redis.
      p--;
      break;
    }
    if (pattern[p] === "\\" && p + 1 < pattern.length) {
      p++;
      if (pattern[p] === char) matched = true;
    } else if (pattern[p] === "]") {
      break;
    } else if (p + 2 < pattern.length && pattern[p + 1] === "-") {
      let [low, high] = [pattern[p] ?? "", pattern[p + 2] ?? ""];
      if (low > high) [low, high] = [high, low];
      if (char >= low && char <= high) matched = true;
      p += 2;
    } else if (pattern[p] === char) {
      matched = true;
    }
    p++;
  }
  return matched !== negated ? p : undefined;
}
