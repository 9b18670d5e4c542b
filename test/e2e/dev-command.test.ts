import { execFile, spawn, type ChildProcess } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../../dev/ports";

const run = promisify(execFile);

/** The text a streamed answer spells out, from its raw SSE. */
function streamedText(sse: string): string {
  return sse
    .split("\n\n")
    .filter((event) => event.startsWith("data: {"))
    .map((event) => JSON.parse(event.slice(6)).choices[0]?.delta?.content ?? "")
    .join("");
}

/** `npm run dev` exactly as a newcomer runs it: no Redis, no provider, nothing configured. */
describe("npm run dev", () => {
  let child: ChildProcess | undefined;
  let output = "";

  afterAll(() => {
    try {
      if (child?.pid) process.kill(-child.pid, "SIGKILL"); // whatever a failed run left behind
    } catch {
      // the group is already gone
    }
  });

  it("starts the stack, prints a curl line that works, and stops everything on Ctrl-C", async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port) };
    for (const name of ["REDIS_URL", "OPENAI_BASE_URL", "OPENAI_API_KEY", "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "PROXY_API_KEYS"]) {
      delete env[name];
    }
    // Its own process group, as in a terminal, so Ctrl-C (SIGINT to the group) reaches npm and its children.
    child = spawn("npm", ["run", "dev"], { env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      child!.stdout!.on("data", () => output.includes("Ctrl-C stops everything.") && resolve());
      child!.once("exit", (code) => reject(new Error(`npm run dev exited (${code}):\n${output}`)));
    });

    expect(output).toContain(`http://127.0.0.1:${port}/v1`);
    expect(output).toContain("in-memory");
    expect(output).toContain("mock model");
    const curl = output.slice(output.indexOf("curl -N"), output.indexOf("Ctrl-C stops")).trim();
    expect(curl).toMatch(/^curl -N/);

    const first = await run("bash", ["-c", curl]);
    expect(first.stdout).toContain("data: [DONE]");
    expect(streamedText(first.stdout)).toContain("I can see 0 earlier messages");
    const second = await run("bash", ["-c", curl]);
    expect(streamedText(second.stdout)).toContain("I can see 2 earlier messages");

    process.kill(-child.pid!, "SIGINT");
    await new Promise((resolve) => child!.once("exit", resolve));
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
    // npm returns at once; its children (wrangler, workerd, esbuild) finish shutting down just after.
    let leftovers: string[] = [];
    for (let attempt = 0; attempt < 100; attempt++) {
      const { stdout } = await run("ps", ["-eo", "pgid=,comm="]);
      leftovers = stdout.split("\n").filter((line) => line.trim().startsWith(`${child!.pid} `));
      if (leftovers.length === 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(leftovers).toEqual([]);
  }, 120_000);
});
