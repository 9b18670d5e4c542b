import { performance } from "node:perf_hooks";
import { cpuMsOfTree } from "./proc";
import type { Target, Turn } from "./targets";

export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const round2 = (n: number) => Number(n.toFixed(2));

/** One request, read to the end: total time and time to the first byte of the body. */
export async function timed(target: Target, turn: Turn): Promise<{ total: number; firstByte: number }> {
  const { headers, body } = target.request(turn);
  const started = performance.now();
  const res = await fetch(target.url, { method: "POST", headers, body });
  const reader = res.body!.getReader();
  let firstByte = 0;
  for (;;) {
    const { done } = await reader.read();
    if (!firstByte) firstByte = performance.now() - started;
    if (done) break;
  }
  if (!res.ok) throw new Error(`${target.name}: ${res.status}`);
  return { total: performance.now() - started, firstByte };
}

const sentence = "what should I pack for a week in Lisbon in spring?";

/** The turn a user of `target` sends i-th: a full window's worth of history for targets without memory. */
export function turnOf(user: string, i: number, stream: boolean): Turn {
  const text = `turn ${i}: ${sentence}`;
  return { user, session: "s", text, stream, history: Array.from({ length: 19 }, (_, j) => ({ role: j % 2 ? "assistant" : "user", content: text })) };
}

export interface Sequential {
  seq_p50_ms: number;
  seq_p95_ms: number;
  seq_p99_ms: number;
  ttft_p50_ms: number;
  ttft_p95_ms: number;
  /** CPU of the target's process tree per request, over both phases (undefined when not measured). */
  cpu_ms_per_req: number | undefined;
  /** The same for the Upstash server's process. */
  upstash_cpu_ms_per_req: number;
}

/**
 * `turns` non-streamed requests one after another (seq), then `turns` streamed ones (TTFT: the
 * first chunk of the answer), with the CPU both took.
 */
export async function sequential(target: Target, user: string, turns: number, upstashPid: number): Promise<Sequential> {
  const seq: number[] = [];
  const ttft: number[] = [];
  const cpu0 = target.pid ? cpuMsOfTree(target.pid) : 0;
  const upstash0 = cpuMsOfTree(upstashPid);
  for (let i = 0; i < turns; i++) seq.push((await timed(target, turnOf(user, i, false))).total);
  for (let i = 0; i < turns; i++) ttft.push((await timed(target, turnOf(user, i, true))).firstByte);
  const cpu = target.pid ? cpuMsOfTree(target.pid) - cpu0 : undefined;
  return {
    seq_p50_ms: round2(percentile(seq, 50)),
    seq_p95_ms: round2(percentile(seq, 95)),
    seq_p99_ms: round2(percentile(seq, 99)),
    ttft_p50_ms: round2(percentile(ttft, 50)),
    ttft_p95_ms: round2(percentile(ttft, 95)),
    cpu_ms_per_req: cpu === undefined ? undefined : round2(cpu / (2 * turns)),
    upstash_cpu_ms_per_req: round2((cpuMsOfTree(upstashPid) - upstash0) / (2 * turns)),
  };
}

/** Streamed turns from `concurrency` users at once, each waiting for its answer before the next: requests per second. */
export async function throughput(target: Target, concurrency: number, perUser: number): Promise<number> {
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async (_, c) => {
      for (let i = 0; i < perUser; i++) await timed(target, turnOf(`${target.name}-c${c}`, i, true));
    }),
  );
  return Math.round((concurrency * perUser) / ((performance.now() - started) / 1000));
}

/** p50 of non-streamed turns in a session that already holds `stored` messages. */
export async function seqP50(target: Target, user: string, turns: number): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < turns; i++) samples.push((await timed(target, turnOf(user, i, false))).total);
  return round2(percentile(samples, 50));
}
