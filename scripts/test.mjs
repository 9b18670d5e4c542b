// `npm test` once the code type-checks: the prerequisites (test-prerequisites.mjs), then vitest
// with what they decided in its environment, then a summary: what was skipped and why, and one
// closing line of counts. Arguments are passed on to vitest (`npm test -- --project dev`).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareTestPrerequisites } from "./test-prerequisites.mjs";

const root = join(import.meta.dirname, "..");

let prepared;
try {
  prepared = prepareTestPrerequisites();
} catch (error) {
  console.error(`test: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
for (const note of prepared.notes) console.log(note);

const args = process.argv.slice(2);
const reportDir = mkdtempSync(join(tmpdir(), "concierge-test-"));
const report = join(reportDir, "vitest.json");
// Unless the caller chose reporters, the usual output plus a JSON report to count from.
const reporters = args.some((arg) => arg.startsWith("--reporter")) ? [] : ["--reporter=default", "--reporter=json", `--outputFile.json=${report}`];
const vitest = spawnSync(join(root, "node_modules", ".bin", "vitest"), ["run", ...reporters, ...args], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, ...prepared.vars },
});

console.log("");
if (existsSync(report)) summarise(JSON.parse(readFileSync(report, "utf8")), prepared.notes);
else for (const note of prepared.notes) console.log(note);
rmSync(reportDir, { recursive: true, force: true });
process.exit(vitest.status ?? 1);

/** What was skipped (grouped by the title that says why), the decisions again, then the counts. */
function summarise(results, notes) {
  const tests = results.testResults.flatMap((file) => file.assertionResults);
  const count = (...statuses) => tests.filter((test) => statuses.includes(test.status)).length;
  const skippedBecause = new Map();
  for (const test of tests.filter((t) => t.status === "skipped" || t.status === "pending")) {
    const reason = [...test.ancestorTitles, test.title].find((title) => title.includes("(skipped:")) ?? "skipped in the code";
    skippedBecause.set(reason, (skippedBecause.get(reason) ?? 0) + 1);
  }
  for (const [reason, n] of skippedBecause) console.log(`test: skipped ${n} ${n === 1 ? "test" : "tests"}: ${reason}`);
  for (const note of notes) console.log(note);
  // A file that failed before any of its tests ran (an error in a hook or at import) counts once.
  const brokenFiles = results.testResults.filter((file) => file.status === "failed" && !file.assertionResults.some((test) => test.status === "failed")).length;
  const skipped = count("skipped", "pending", "todo");
  console.log(`test: ${count("passed")} passed, ${count("failed") + brokenFiles} failed${skipped > 0 ? `, ${skipped} skipped` : ""}`);
}
