import { openSync, readSync, closeSync, statSync } from "node:fs";
import { beforeEach } from "vitest";
import { stack } from "../support/context";

/** At most this many of the worker's lines are printed for one failed test. */
const MAX_LINES = 40;

/** The worker's log from byte `from` on, as text without terminal colours. */
function logSince(file: string, from: number): string {
  const size = statSync(file).size;
  if (size <= from) return "";
  const buffer = Buffer.alloc(size - from);
  const fd = openSync(file, "r");
  try {
    readSync(fd, buffer, 0, buffer.length, from);
  } finally {
    closeSync(fd);
  }
  return buffer.toString("utf8").replace(/\x1b\[[0-9;]*m/g, "");
}

/**
 * When an integration test fails, prints what the worker logged above info level while it ran
 * (other tests' lines among them: files run side by side). CI keeps only its output, and a 503 in
 * an assertion says nothing of which part gave out; the log line does. The worker logs no secrets
 * and no message content, so its lines can be printed as they are.
 */
beforeEach(({ onTestFailed }) => {
  const file = stack().workerLogFile;
  const from = statSync(file).size;
  onTestFailed(() => {
    const lines = logSince(file, from)
      .split("\n")
      .filter((line) => /"level":"(warn|error)"|Uncaught|restarted|✘/.test(line))
      .slice(-MAX_LINES);
    console.error(`worker log while the test ran (warnings and errors, last ${MAX_LINES}):\n${lines.join("\n") || "(none)"}`);
  });
});
