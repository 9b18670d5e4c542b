import { spawn } from "node:child_process";
import { createConnection } from "node:net";
import { freePort } from "./ports";

export interface RedisServer {
  /** e.g. redis://127.0.0.1:40123 */
  url: string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 10_000;

/**
 * A throwaway redis-server on a free loopback port, nothing persisted. Resolves once it answers
 * PING; `stop` kills it and waits for it to exit. REDIS_SERVER_BIN overrides the binary.
 */
export async function startRedisServer(): Promise<RedisServer> {
  // The Debian package puts it at /usr/bin/redis-server, which is on PATH.
  const binary = process.env.REDIS_SERVER_BIN || "redis-server";
  // Another process can take the free port before redis-server binds it; then try another.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOn(binary, await freePort());
    } catch (error) {
      if (attempt >= 3 || !String(error).includes("Address already in use")) throw error;
    }
  }
}

async function startOn(binary: string, port: number): Promise<RedisServer> {
  const child = spawn(binary, ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));

  const failed = new Promise<never>((_, reject) => {
    child.once("error", (error: NodeJS.ErrnoException) => {
      reject(
        error.code === "ENOENT"
          ? new Error(`${binary} was not found: install Redis (Debian/Ubuntu: apt-get install redis-server) or set REDIS_SERVER_BIN`)
          : new Error(`could not start ${binary}: ${error.message}`),
      );
    });
    child.once("exit", (code, signal) => reject(new Error(`${binary} exited (${signal ?? `code ${code}`}) before answering PING:\n${output.trim()}`)));
  });

  const running = () => child.pid !== undefined && child.exitCode === null && child.signalCode === null;
  // If whoever started it exits without calling stop, it should not outlive them.
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    process.off("exit", killOnExit);
    if (!running()) return;
    child.kill("SIGTERM");
    const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(killer);
  };

  // Awaited by answersPing once the process is gone; after a good start it is only noise.
  failed.catch(() => {});
  try {
    await answersPing(port, START_TIMEOUT_MS, running, failed);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `redis://127.0.0.1:${port}`, stop };
}

/**
 * Tries PING until redis-server answers +PONG (it starts listening a moment after spawn). If the
 * process is gone instead, `failed` says why.
 */
async function answersPing(port: number, timeoutMs: number, running: () => boolean, failed: Promise<never>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (running()) {
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return failed;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("latin1");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
    socket.once("error", () => done(false));
  });
}
