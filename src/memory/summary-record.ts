/**
 * A session's rolling summary as stored in `session:{user}:{session}:summary`: its text and the
 * watermark, the position (counted over every message the session ever appended, so trimming the
 * list does not move it) up to which messages are folded into it. Written in one value, so the
 * summary and its watermark always move together.
 */
export interface SummaryRecord {
  text: string;
  /** Messages at positions below this are in the summary; the rest are in the list. */
  upTo: number;
}

export function formatSummary(record: SummaryRecord): string {
  return JSON.stringify({ text: record.text, up_to: record.upTo });
}

/** The stored record, or undefined when there is none (or it cannot be read, which counts as none). */
export function parseSummary(raw: unknown): SummaryRecord | undefined {
  if (typeof raw !== "string") return undefined;
  try {
    const value = JSON.parse(raw) as { text?: unknown; up_to?: unknown } | null;
    if (typeof value?.text !== "string" || !Number.isSafeInteger(value.up_to) || Number(value.up_to) < 0) return undefined;
    return { text: value.text, upTo: Number(value.up_to) };
  } catch {
    return undefined;
  }
}
