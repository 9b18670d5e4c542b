/**
 * Redis's index arithmetic for LRANGE, LTRIM and ZRANGE: negative indexes count from the end,
 * out-of-range ends are clamped, and an empty range is undefined.
 */
export function clampRange(length: number, start: number, stop: number): [number, number] | undefined {
  const from = Math.max(start < 0 ? length + start : start, 0);
  const to = Math.min(stop < 0 ? length + stop : stop, length - 1);
  if (from > to || from >= length) return undefined;
  return [from, to];
}
