import type { Redis } from "@upstash/redis/cloudflare";

type Pipeline = ReturnType<Redis["pipeline"]>;

interface Queued {
  add: (pipeline: Pipeline) => void;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Redis commands from several parts of a request (the rate limiter, the turn's reads) gathered
 * into one Upstash pipeline, so they cost one round trip. Commands added after the batch was
 * sent run on their own (the rate limiter's one-time EVAL after a NOSCRIPT, for instance).
 *
 * Why not @upstash/redis's auto-pipelining: it keeps reads and writes in two pipelines, and the
 * rate limiter's EVALSHA counts as a write, so a turn's load would cost two Upstash requests; and
 * it gathers only what is issued within one microtask, which the rate limiter's own awaits miss.
 */
export class RedisBatch {
  private readonly queued: Queued[] = [];
  private sent = false;

  constructor(private readonly redis: Redis) {}

  add<T>(add: (pipeline: Pipeline) => void): Promise<T> {
    if (this.sent) {
      const pipeline = this.redis.pipeline();
      add(pipeline);
      return pipeline.exec<[T]>().then(([result]) => result);
    }
    return new Promise<T>((resolve, reject) => this.queued.push({ add, resolve: resolve as (value: unknown) => void, reject }));
  }

  /** Sends everything queued as one pipeline; each command's own error fails only its own promise. */
  async flush(): Promise<void> {
    this.sent = true;
    if (this.queued.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const command of this.queued) command.add(pipeline);
    let results: Array<{ result?: unknown; error?: string }>;
    try {
      results = await pipeline.exec({ keepErrors: true });
    } catch (error) {
      for (const command of this.queued) command.reject(error);
      throw error;
    }
    results.forEach(({ result, error }, i) => {
      const command = this.queued[i]!;
      if (error) command.reject(new Error(error));
      else command.resolve(result);
    });
  }

  /** The part of a Redis client that @upstash/ratelimit uses, routed through this batch. */
  asRatelimitClient(): Redis {
    const client: Pick<Redis, "evalsha" | "eval"> = {
      evalsha: (sha, keys, args) => this.add((pipeline) => pipeline.evalsha(sha, keys, args)),
      eval: (script, keys, args) => this.add((pipeline) => pipeline.eval(script, keys, args)),
    };
    return client as Redis;
  }
}
