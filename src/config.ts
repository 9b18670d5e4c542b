import * as z from "zod/mini";
import { ConfigError } from "./http/errors";

/**
 * The SESSION_SYNC binding by shape: one SessionSync object per session (turn/session-sync-object.ts).
 * Typed by shape, so code that runs in Node, the local stack, reads Config without the Workers
 * runtime's types.
 */
export interface SessionSyncObjects<Id = unknown> {
  idFromName(name: string): Id;
  get(id: Id): { latest(): Promise<string | null>; saved(token: string, ttlSeconds: number, order?: number): Promise<void> };
}

/**
 * The SESSION_TURNS binding by shape: one SessionTurns object per session (turn/session-turns-object.ts).
 * `caller` is who the front door authenticated, handed over as data.
 */
export interface SessionTurnsObjects<Id = unknown> {
  idFromName(name: string): Id;
  get(id: Id): { turn(request: Request, caller: unknown): Promise<Response> };
}

/** The range of each whole-number setting, by its schema: README.md states every one (a test checks). */
const ranges = new Map<object, { min: number; max: number }>();
const ranged = <S extends object>(schema: S, min: number, max: number): S => {
  ranges.set(schema, { min, max });
  return schema;
};
const int = (min: number, max: number, fallback: number) =>
  ranged(z._default(z.coerce.number().check(z.multipleOf(1, "must be a whole number"), z.minimum(min), z.maximum(max)), fallback), min, max);
const optionalInt = (min: number, max: number) =>
  ranged(z.optional(z.coerce.number().check(z.multipleOf(1, "must be a whole number"), z.minimum(min), z.maximum(max))), min, max);
const text = (fallback: string) => z._default(z.string(), fallback);
const list = z.pipe(
  text(""),
  z.transform((s) =>
    s
      .split(",")
      .map((item) => item.trim())
      .filter(Boolean),
  ),
);
const optionalText = z.pipe(
  z.optional(z.string()),
  z.transform((s) => (s?.trim() ? s.trim() : undefined)),
);
const optionalUrl = z.pipe(optionalText, z.optional(z.url({ protocol: /^https?$/ })));
const flag = z.pipe(
  text("off"),
  z.transform((s) => ["on", "true", "1", "yes"].includes(s.trim().toLowerCase())),
);

const schema = z.object({
  UPSTASH_REDIS_REST_URL: optionalUrl,
  UPSTASH_REDIS_REST_TOKEN: optionalText,
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_API_KEY: optionalText,
  PROXY_API_KEYS: list,
  DEFAULT_MODEL: z._default(z.string().check(z.trim(), z.minLength(1)), "gpt-4o-mini"),
  ALLOWED_MODELS: list,
  SYSTEM_PROMPT: text("You are a helpful assistant."),
  HISTORY_MAX_MESSAGES: int(2, 1000, 20),
  HISTORY_MAX_TOKENS: int(256, 2_000_000, 8000),
  HISTORY_MAX_STORED: int(2, 10_000, 200),
  TOKENIZER: z._default(z.enum(["estimate", "exact"]), "estimate"),
  SESSION_TTL_SECONDS: int(60, 31_536_000, 3600),
  MAX_SESSIONS_PER_USER: int(1, 100_000, 1000),
  MAX_BODY_BYTES: int(1024, 10_000_000, 524_288),
  MAX_MESSAGES_PER_REQUEST: int(1, 10_000, 256),
  // At most a third of a save's budget: a turn must have room beside the longest reply stored.
  MAX_MESSAGE_BYTES: int(256, 262_144, 65_536),
  REDIS_TIMEOUT_MS: int(50, 60_000, 2000),
  UPSTREAM_TIMEOUT_MS: int(100, 600_000, 60_000),
  UPSTREAM_MAX_RETRIES: int(0, 5, 1),
  UPSTREAM_IDLE_TIMEOUT_MS: int(100, 600_000, 60_000),
  COSMOS_ENDPOINT: optionalUrl,
  COSMOS_KEY: optionalText,
  COSMOS_DATABASE: text("agent-db"),
  COSMOS_CONTAINER: text("user-memory"),
  COSMOS_TIMEOUT_MS: int(50, 60_000, 1500),
  COSMOS_BREAKER_SECONDS: int(0, 3600, 10),
  PROFILE_CACHE_TTL_SECONDS: int(1, 86_400, 300),
  PROFILE_TTL_SECONDS: int(60, 2_147_483_647, 7_776_000),
  PROFILE_MAX_BYTES: int(2, 1_000_000, 8192),
  // An HS256 secret shorter than its hash is brute-forceable offline from a single token.
  JWT_SECRET: z.pipe(optionalText, z.optional(z.string().check(z.minLength(32, "must be at least 32 characters")))),
  JWT_JWKS_URL: optionalUrl,
  JWT_AUDIENCE: optionalText,
  JWT_ISSUER: optionalText,
  WIDGET_TOKEN_TTL_SECONDS: int(30, 86_400, 900),
  WIDGET_TOKEN_MAX_TTL_SECONDS: int(30, 604_800, 86_400),
  // Default: WIDGET_TOKEN_MAX_TTL_SECONDS, so every token we mint is one we accept.
  JWT_MAX_AGE_SECONDS: optionalInt(30, 604_800),
  WIDGET_MAX_TOKENS: int(1, 1_000_000, 1024),
  WIDGET_MAX_MESSAGES: int(1, 10_000, 50),
  WIDGET_MAX_MESSAGE_BYTES: int(64, 5_000_000, 8192),
  RATE_LIMIT_REQUESTS: int(0, 1_000_000, 60),
  RATE_LIMIT_WINDOW_SECONDS: int(1, 86_400, 60),
  AUTH_FAILURE_LIMIT: int(0, 1_000_000, 20),
  AUTH_FAILURE_WINDOW_SECONDS: int(1, 86_400, 300),
  ALLOWED_ORIGINS: list,
  LOG_CONTENT: flag,
  SUMMARY_MODE: z._default(z.enum(["off", "on"]), "off"),
  SUMMARY_MODEL: optionalText,
  SUMMARY_MAX_TOKENS: int(16, 4096, 256),
  MEMORY_EXTRACTION: z._default(z.enum(["off", "on"]), "off"),
  RECALL: z._default(z.enum(["off", "on"]), "off"),
  RECALL_MAX_TOKENS: int(50, 100_000, 1000),
  RECALL_MAX_MESSAGES: int(10, 100_000, 10_000),
  MEMORY_MODEL: optionalText,
  SYNC_FALLBACK: z.optional(z.enum(["isolate", "durable-object"])),
  RESUMABLE_REPLIES: z.optional(z.enum(["widgets", "off"])),
});

/** The worker's bindings: `[vars]` in wrangler.toml and secrets, every one a string, and the Durable Object. */
export type Env = Partial<Record<keyof typeof schema.shape, string>> & {
  /** Each session's latest save token, used with SYNC_FALLBACK=durable-object (wrangler.toml binds it). */
  SESSION_SYNC?: SessionSyncObjects;
  /** Each session's widget turns, so a reply outlives a dropped connection (wrangler.toml binds it). */
  SESSION_TURNS?: SessionTurnsObjects;
};

/** Every configuration name, so the local stack can pass through the ones set in its environment. */
export const CONFIG_NAMES = Object.keys(schema.shape) as (keyof Env)[];

/** Each whole-number setting's allowed range: a value outside it fails every request with a 500 naming it. */
export const CONFIG_RANGES: Record<string, { min: number; max: number }> = Object.fromEntries(
  Object.entries(schema.shape).flatMap(([name, field]) => {
    const range = ranges.get(field);
    return range ? [[name, range]] : [];
  }),
);

/** Everything the worker needs, validated and typed; built once per isolate. */
export interface Config {
  redis: { url: string; token: string; timeoutMs: number } | undefined;
  upstream: {
    baseURL: string | undefined;
    apiKey: string | undefined;
    defaultModel: string;
    /** ALLOWED_MODELS; with widget tokens on and none set, DEFAULT_MODEL alone. */
    allowedModels: string[];
    timeoutMs: number;
    idleTimeoutMs: number;
    maxRetries: number;
  };
  cosmos:
    | { endpoint: string; key: string; database: string; container: string; timeoutMs: number; breakerSeconds: number; profileTtlSeconds: number; cacheTtlSeconds: number }
    | undefined;
  auth: {
    apiKeys: string[];
    jwtSecret: string | undefined;
    jwksUrl: string | undefined;
    audience: string | undefined;
    issuer: string | undefined;
    tokenTtlSeconds: number;
    tokenMaxTtlSeconds: number;
    /** The furthest a widget token's exp may be in the future, and the oldest its iat may be. */
    maxAgeSeconds: number;
  };
  /** What a browser widget may ask for; trusted API-key callers are bound only by `limits`. */
  widget: { maxTokens: number; maxMessages: number; maxMessageBytes: number };
  rateLimit: { requests: number; windowSeconds: number; authFailures: number; authFailureWindowSeconds: number };
  allowedOrigins: string[];
  logContent: boolean;
  /** Rolling summaries of what leaves the window; undefined when SUMMARY_MODE is off. */
  summary: { model: string; maxTokens: number } | undefined;
  /** Cross-session recall (RECALL); its messages live as long as a profile (PROFILE_TTL_SECONDS) after the user's last turn. */
  recall: { maxTokens: number; maxMessages: number; ttlSeconds: number } | undefined;
  /** Learned preferences after each turn; undefined when MEMORY_EXTRACTION is off or profiles are. */
  learning: { model: string } | undefined;
  systemPrompt: string;
  /** tokenizer: how prompt tokens are counted, by the fast estimate or an exact o200k tokenizer. */
  window: { maxMessages: number; maxTokens: number; tokenizer: "estimate" | "exact" };
  /** maxPerUser: live sessions a user keeps; beyond it the least recently active are forgotten. */
  sessions: { ttlSeconds: number; maxStored: number; maxPerUser: number };
  limits: { maxBodyBytes: number; maxMessages: number; maxMessageBytes: number; maxProfileBytes: number };
  /** Where a turn whose client echoes no sync token finds the session's latest save, beyond its isolate (SYNC_FALLBACK). */
  sessionSync: { objects: SessionSyncObjects; timeoutMs: number } | undefined;
  /** Where widgets' session turns run so a dropped connection can attach again (RESUMABLE_REPLIES). */
  resumable: { objects: SessionTurnsObjects } | undefined;
}

function fromEnv(env: Env): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    // Name the variable, never echo its value: it may be a secret.
    const problems = parsed.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(`invalid configuration: ${problems.join("; ")}`);
  }
  const v = parsed.data;
  for (const [a, b] of [
    ["UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN"],
    ["COSMOS_ENDPOINT", "COSMOS_KEY"],
  ] as const) {
    if (Boolean(v[a]) !== Boolean(v[b])) throw new ConfigError(`invalid configuration: ${a} and ${b} go together`);
  }
  const widgetTokens = Boolean(v.JWT_SECRET || v.JWT_JWKS_URL);
  if (v.JWT_JWKS_URL && !v.JWT_AUDIENCE) {
    // An identity provider signs tokens for all its apps with these keys; only `aud` says which
    // are ours. (Our own HS256 tokens need none: no one else holds JWT_SECRET.)
    throw new ConfigError("invalid configuration: JWT_AUDIENCE is required with JWT_JWKS_URL");
  }
  // A widget may not pick what we pay for: without ALLOWED_MODELS, the one model the operator chose.
  const allowedModels = v.ALLOWED_MODELS.length > 0 || !widgetTokens ? v.ALLOWED_MODELS : [v.DEFAULT_MODEL];
  // The object wherever the binding is (wrangler.toml binds it): with read replicas, a client that
  // echoes no token (a streaming openai SDK) otherwise misses its previous turn from another isolate.
  const syncFallback = v.SYNC_FALLBACK ?? (env.SESSION_SYNC ? "durable-object" : "isolate");
  if (syncFallback === "durable-object" && !env.SESSION_SYNC) {
    throw new ConfigError("invalid configuration: SYNC_FALLBACK=durable-object needs the SESSION_SYNC Durable Object binding (wrangler.toml)");
  }
  // On wherever the binding is (wrangler.toml binds it), unless turned off; asked for without it, refused.
  const resumable = (v.RESUMABLE_REPLIES ?? (env.SESSION_TURNS ? "widgets" : "off")) === "widgets";
  if (resumable && !env.SESSION_TURNS) {
    throw new ConfigError("invalid configuration: RESUMABLE_REPLIES=widgets needs the SESSION_TURNS Durable Object binding (wrangler.toml)");
  }
  if (v.RECALL === "on" && v.RECALL_MAX_TOKENS >= v.HISTORY_MAX_TOKENS) {
    throw new ConfigError("invalid configuration: RECALL_MAX_TOKENS must be less than HISTORY_MAX_TOKENS, inside which it is counted");
  }
  if (v.SUMMARY_MODE === "on" && v.HISTORY_MAX_STORED < 2 * v.HISTORY_MAX_MESSAGES) {
    // What leaves the window must still be stored when a fold comes for it, a turn or two later.
    throw new ConfigError("invalid configuration: HISTORY_MAX_STORED must be at least twice HISTORY_MAX_MESSAGES when SUMMARY_MODE=on");
  }
  const maxAgeSeconds = v.JWT_MAX_AGE_SECONDS ?? v.WIDGET_TOKEN_MAX_TTL_SECONDS;
  if (v.WIDGET_TOKEN_MAX_TTL_SECONDS > maxAgeSeconds) {
    // Tokens minted for the longest lifetime allowed would be refused by our own verification.
    throw new ConfigError("invalid configuration: WIDGET_TOKEN_MAX_TTL_SECONDS must not exceed JWT_MAX_AGE_SECONDS");
  }
  return {
    redis:
      v.UPSTASH_REDIS_REST_URL && v.UPSTASH_REDIS_REST_TOKEN
        ? { url: v.UPSTASH_REDIS_REST_URL, token: v.UPSTASH_REDIS_REST_TOKEN, timeoutMs: v.REDIS_TIMEOUT_MS }
        : undefined,
    upstream: {
      baseURL: v.OPENAI_BASE_URL,
      apiKey: v.OPENAI_API_KEY,
      defaultModel: v.DEFAULT_MODEL,
      allowedModels,
      timeoutMs: v.UPSTREAM_TIMEOUT_MS,
      idleTimeoutMs: v.UPSTREAM_IDLE_TIMEOUT_MS,
      maxRetries: v.UPSTREAM_MAX_RETRIES,
    },
    cosmos:
      v.COSMOS_ENDPOINT && v.COSMOS_KEY
        ? {
            endpoint: v.COSMOS_ENDPOINT,
            key: v.COSMOS_KEY,
            database: v.COSMOS_DATABASE,
            container: v.COSMOS_CONTAINER,
            timeoutMs: v.COSMOS_TIMEOUT_MS,
            breakerSeconds: v.COSMOS_BREAKER_SECONDS,
            profileTtlSeconds: v.PROFILE_TTL_SECONDS,
            cacheTtlSeconds: v.PROFILE_CACHE_TTL_SECONDS,
          }
        : undefined,
    auth: {
      apiKeys: v.PROXY_API_KEYS,
      jwtSecret: v.JWT_SECRET,
      jwksUrl: v.JWT_JWKS_URL,
      audience: v.JWT_AUDIENCE,
      issuer: v.JWT_ISSUER,
      tokenTtlSeconds: v.WIDGET_TOKEN_TTL_SECONDS,
      tokenMaxTtlSeconds: v.WIDGET_TOKEN_MAX_TTL_SECONDS,
      maxAgeSeconds,
    },
    widget: { maxTokens: v.WIDGET_MAX_TOKENS, maxMessages: v.WIDGET_MAX_MESSAGES, maxMessageBytes: v.WIDGET_MAX_MESSAGE_BYTES },
    rateLimit: {
      requests: v.RATE_LIMIT_REQUESTS,
      windowSeconds: v.RATE_LIMIT_WINDOW_SECONDS,
      authFailures: v.AUTH_FAILURE_LIMIT,
      authFailureWindowSeconds: v.AUTH_FAILURE_WINDOW_SECONDS,
    },
    allowedOrigins: v.ALLOWED_ORIGINS,
    logContent: v.LOG_CONTENT,
    learning: v.MEMORY_EXTRACTION === "on" && v.COSMOS_ENDPOINT ? { model: v.MEMORY_MODEL ?? v.DEFAULT_MODEL } : undefined,
    summary: v.SUMMARY_MODE === "on" ? { model: v.SUMMARY_MODEL ?? v.DEFAULT_MODEL, maxTokens: v.SUMMARY_MAX_TOKENS } : undefined,
    recall: v.RECALL === "on" ? { maxTokens: v.RECALL_MAX_TOKENS, maxMessages: v.RECALL_MAX_MESSAGES, ttlSeconds: v.PROFILE_TTL_SECONDS } : undefined,
    systemPrompt: v.SYSTEM_PROMPT,
    window: { maxMessages: v.HISTORY_MAX_MESSAGES, maxTokens: v.HISTORY_MAX_TOKENS, tokenizer: v.TOKENIZER },
    sessions: { ttlSeconds: v.SESSION_TTL_SECONDS, maxStored: v.HISTORY_MAX_STORED, maxPerUser: v.MAX_SESSIONS_PER_USER },
    limits: { maxBodyBytes: v.MAX_BODY_BYTES, maxMessages: v.MAX_MESSAGES_PER_REQUEST, maxMessageBytes: v.MAX_MESSAGE_BYTES, maxProfileBytes: v.PROFILE_MAX_BYTES },
    // Bounded like a Redis command: the object is a round trip away, and a turn only waits so long.
    sessionSync: syncFallback === "durable-object" && env.SESSION_SYNC ? { objects: env.SESSION_SYNC, timeoutMs: v.REDIS_TIMEOUT_MS } : undefined,
    resumable: resumable && env.SESSION_TURNS ? { objects: env.SESSION_TURNS } : undefined,
  };
}

// The env object lives as long as the isolate, so parsing once per env is parsing once per isolate.
const cache = new WeakMap<Env, Config>();

export function loadConfig(env: Env): Config {
  let config = cache.get(env);
  if (!config) {
    config = fromEnv(env);
    cache.set(env, config);
  }
  return config;
}
