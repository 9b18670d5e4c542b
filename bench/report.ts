import { readFileSync, writeFileSync } from "node:fs";
import { cpus, release } from "node:os";
import { join } from "node:path";
import type { Sequential } from "./measure";
import { PORTKEY_VERSION, ROOT } from "./targets";

type Row = Sequential & { rps: number };

interface Result {
  at: string;
  settings: Record<string, unknown>;
  configs: Record<string, Row[]>;
  history_seq_p50_ms: Record<string, number>;
  upstash_requests_per_turn: Record<string, number>;
  upstash_requests_per_widget_turn_resumable: Record<string, number>;
  upstash_floor: Record<string, number>;
  cold_start: Record<string, unknown>;
  bundle: string;
  cpu_note: string;
}

const version = (pkg: string) => (JSON.parse(readFileSync(join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as { version: string }).version;
const fmt = (n: number | undefined) => (n === undefined ? "–" : String(n));

/** bench/results/results.md (a table per round, the machine, the versions) and chart.svg. */
export function writeReport(result: Result, dir: string): void {
  const names = Object.keys(result.configs);
  const rounds = result.configs[names[0]!]!.length;
  const lines = [
    "# Benchmark results",
    "",
    `Written by \`npm run bench\` at ${result.at}. Machine: ${cpus()[0]?.model ?? "?"} x${cpus().length}, Linux ${release()}, Node ${process.version};`,
    `miniflare ${version("miniflare")}, wrangler ${version("wrangler")}, @portkey-ai/gateway ${PORTKEY_VERSION}. Settings: ${JSON.stringify(result.settings)}.`,
    "",
    "Latency in ms (seq: non-streamed, one request at a time; TTFT: first chunk of a streamed answer); rps: streamed requests/s with 32 users at once; CPU: ms per request of the target's process tree, and of the Upstash server.",
    "",
  ];
  for (let round = 0; round < rounds; round++) {
    lines.push(`## Round ${round + 1}`, "", "| config | seq p50 | p95 | p99 | seq p50 over bare | TTFT p50 | p95 | rps | CPU ms/req | Upstash CPU ms/req |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    const bareRow = result.configs.bare_hono?.[round];
    for (const name of names) {
      const row = result.configs[name]![round]!;
      const over = bareRow ? Number((row.seq_p50_ms - bareRow.seq_p50_ms).toFixed(2)) : undefined;
      lines.push(`| ${name} | ${row.seq_p50_ms} | ${row.seq_p95_ms} | ${row.seq_p99_ms} | ${fmt(over)} | ${row.ttft_p50_ms} | ${row.ttft_p95_ms} | ${row.rps} | ${fmt(row.cpu_ms_per_req)} | ${row.upstash_cpu_ms_per_req} |`);
    }
    lines.push("");
  }
  const floor = result.configs.bare_hono_3_fetches;
  const memory = result.configs.concierge_memory;
  if (floor && memory) {
    const over = memory.map((row, i) => Number(((row.cpu_ms_per_req ?? NaN) - (floor[i]?.cpu_ms_per_req ?? NaN)).toFixed(2)));
    lines.push(
      "## Over the floor",
      "",
      `CPU of concierge_memory over bare_hono_3_fetches (the same three subrequests and a relay written from JavaScript, with no code of ours), round by round: ${over.join(" / ")} ms per request. That is what concierge's own code (and its SDKs) adds to a turn with memory.`,
      "",
    );
  }
  lines.push(
    "## Memory",
    "",
    `Seq p50 with a session holding 10 / 1,000 / 10,000 stored messages: ${Object.values(result.history_seq_p50_ms).join(" / ")} ms.`,
    `Upstash requests per turn: ${JSON.stringify(result.upstash_requests_per_turn)}; a widget's turn in the session's Durable Object (concierge_widget_resumable): ${JSON.stringify(result.upstash_requests_per_widget_turn_resumable)}. The floor, a turn's exact requests replayed alone: /pipeline ${result.upstash_floor.pipeline_p50_ms} ms + /multi-exec ${result.upstash_floor.multi_exec_p50_ms} ms.`,
    `Cold start: ${JSON.stringify(result.cold_start)}.`,
    `Bundle: ${result.bundle}.`,
    "",
    result.cpu_note,
    "",
  );
  writeFileSync(join(dir, "results.md"), `${lines.join("\n")}\n`);
  writeFileSync(join(dir, "chart.svg"), chart(result));
}

/** Bars of CPU per request and seq p50, each config's mean over the rounds. */
function chart(result: Result): string {
  const names = Object.keys(result.configs).filter((name) => result.configs[name]!.some((row) => row.cpu_ms_per_req !== undefined));
  const mean = (name: string, pick: (row: Row) => number) => {
    const rows = result.configs[name]!;
    return rows.reduce((sum, row) => sum + pick(row), 0) / rows.length;
  };
  const panels = [
    { title: "CPU ms per request (process tree)", value: (name: string) => mean(name, (row) => row.cpu_ms_per_req ?? 0) },
    { title: "requests/s at 32 concurrent users", value: (name: string) => mean(name, (row) => row.rps) },
  ];
  const width = 720;
  const rowHeight = 26;
  const panelHeight = 40 + names.length * rowHeight;
  const label = 190;
  const barMax = width - label - 90;
  let y = 0;
  const parts: string[] = [];
  for (const panel of panels) {
    const max = Math.max(...names.map(panel.value), 1e-9);
    parts.push(`<text x="10" y="${y + 24}" font-size="15" font-weight="bold">${panel.title}</text>`);
    names.forEach((name, i) => {
      const value = panel.value(name);
      const top = y + 36 + i * rowHeight;
      const w = Math.max(1, (value / max) * barMax);
      const fill = name.startsWith("concierge") ? "#2f6fdb" : name.startsWith("portkey") ? "#d9822b" : "#8a8f98";
      parts.push(
        `<text x="10" y="${top + 16}" font-size="13">${name}</text>`,
        `<rect x="${label}" y="${top + 3}" width="${w.toFixed(1)}" height="${rowHeight - 8}" fill="${fill}"/>`,
        `<text x="${label + w + 6}" y="${top + 16}" font-size="13">${value.toFixed(value >= 100 ? 0 : 2)}</text>`,
      );
    });
    y += panelHeight;
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" font-family="sans-serif" role="img" aria-label="concierge benchmark">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join("\n")}\n</svg>\n`;
}
