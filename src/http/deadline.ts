/** Work that did not finish in time (or whose wait was called off by a signal). */
export class DeadlineExceeded extends Error {
  override name = "DeadlineExceeded";
}

/**
 * `work`, unless `ms` pass first or `signal` aborts: then DeadlineExceeded. The timer is cleared
 * either way, so nothing lingers in the isolate. (The work itself goes on unless the caller
 * cancels it; pass it an AbortSignal of its own for that.)
 */
export async function withDeadline<T>(work: Promise<T>, ms: number, signal?: AbortSignal, what = "work"): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new DeadlineExceeded(`${what} did not finish within ${ms} ms`)), ms);
        if (signal) {
          onAbort = () => reject(new DeadlineExceeded(`${what} was called off`));
          if (signal.aborted) onAbort();
          else signal.addEventListener("abort", onAbort, { once: true });
        }
      }),
    ]);
  } finally {
    clearTimeout(timer);
    if (onAbort) signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * A deadline for work that takes an AbortSignal (a fetch and its retries): the signal aborts after
 * `ms`, unless `cancel()` came first, once the work no longer needs bounding (a stream has begun).
 */
export function abortAfter(ms: number): { signal: AbortSignal; cancel(): void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new DeadlineExceeded(`did not finish within ${ms} ms`)), ms);
  return { signal: controller.signal, cancel: () => clearTimeout(timer) };
}
