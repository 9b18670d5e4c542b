// What `npm test` needs beyond Node and npm: redis-server (the integration stack, and the tests of
// our Upstash server against real Redis) and chromium (the demo widget's browser test).
// Finds each; installs what is missing with apt-get where that is possible (as root, apt-get
// present, CONCIERGE_NO_INSTALL unset); otherwise decides what runs instead and says so:
// CONCIERGE_REDIS=embedded (the stack's Upstash server on its embedded backend, the tests of
// redis-server itself skipped) and CONCIERGE_BROWSER=none (the browser test skipped). On CI
// (CI=true) nothing falls back: it must test against the real ones.
import { spawnSync } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, join } from "node:path";

const TOOLS = [
  {
    command: "redis-server",
    aptPackage: "redis-server",
    override: "REDIS_SERVER_BIN",
    decision: "CONCIERGE_REDIS",
    fallback: "embedded",
    instead: "the integration stack runs on the embedded Redis backend; tests of redis-server itself are skipped",
  },
  {
    command: "chromium",
    aptPackage: "chromium",
    override: "CHROMIUM_PATH",
    decision: "CONCIERGE_BROWSER",
    fallback: "none",
    instead: "the browser test of the demo widget is skipped",
  },
];

/**
 * Returns the variables to run vitest with (the path of each tool found, or the fallback
 * decided) and the lines that say what was decided. Throws on CI when a tool is missing.
 */
export function prepareTestPrerequisites(env = process.env, log = (line) => console.log(line)) {
  const vars = {};
  const notes = [];
  const missing = [];
  for (const tool of TOOLS) {
    if (env[tool.decision] === tool.fallback) {
      notes.push(`test: ${tool.decision}=${tool.fallback} was set: ${tool.instead}`);
      continue;
    }
    const found = locate(tool, env);
    if (found.path) vars[tool.override] = found.path;
    else missing.push({ tool, reason: found.reason });
  }

  const installable = missing.filter(({ tool }) => !env[tool.override]);
  const cannotInstall = installBlocker(env);
  if (installable.length > 0 && !cannotInstall) {
    const packages = installable.map(({ tool }) => tool.aptPackage);
    log(`test: installing ${packages.join(" ")} with apt-get`);
    const failure = aptInstall(packages);
    for (const entry of installable) {
      const found = locate(entry.tool, env);
      if (found.path) {
        vars[entry.tool.override] = found.path;
        missing.splice(missing.indexOf(entry), 1);
      } else {
        entry.reason = `${entry.reason}, and ${failure ?? "apt-get installed it somewhere not on PATH"}`;
      }
    }
  } else {
    for (const entry of installable) entry.reason = `${entry.reason}, and ${cannotInstall}`;
  }

  for (const { tool, reason } of missing) {
    if (env.CI === "true") {
      throw new Error(`${tool.command} ${reason}. CI tests against the real one: install it first (.ci/run does).`);
    }
    vars[tool.decision] = tool.fallback;
    notes.push(`test: ${tool.command} ${reason}: ${tool.instead} (${tool.decision}=${tool.fallback})`);
  }
  return { vars, notes };
}

/** The tool's executable, from its override variable or PATH; or why there is none. */
function locate(tool, env) {
  const override = env[tool.override];
  if (override) return isExecutable(override) ? { path: override } : { reason: `is not at ${tool.override}=${override}` };
  for (const dir of (env.PATH ?? "").split(delimiter)) {
    const candidate = join(dir, tool.command);
    if (dir && isExecutable(candidate)) return { path: candidate };
  }
  return { reason: "was not found on PATH" };
}

/** Why apt-get cannot be used here, or undefined if it can. */
function installBlocker(env) {
  if (env.CONCIERGE_NO_INSTALL === "1") return "CONCIERGE_NO_INSTALL=1 forbids installing it";
  if (process.getuid?.() !== 0) return "installing it needs root";
  if (!locate({ command: "apt-get" }, env).path) return "there is no apt-get to install it with";
  return undefined;
}

/** apt-get update, then install; undefined on success, else what failed. */
function aptInstall(packages) {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  // Their progress is noise; their errors are not.
  const options = { env, stdio: ["ignore", "ignore", "inherit"] };
  const update = spawnSync("apt-get", ["update", "-qq"], options);
  if (update.status !== 0) return `apt-get update failed (${update.error?.message ?? `exit ${update.status}`})`;
  const install = spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", ...packages], options);
  if (install.status !== 0) return `apt-get install failed (${install.error?.message ?? `exit ${install.status}`})`;
  return undefined;
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
