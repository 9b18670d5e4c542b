import OpenAI from "openai";
import { VERSION } from "openai/version";
import type { ChatCompletionCreateParams } from "openai/resources/chat/completions";
import type { Config } from "../config";
import { ServiceUnavailableError } from "../http/errors";
import { toUpstreamError, type UpstreamErrorOptions } from "./errors";

/**
 * An upstream 429 belongs to the client: pass it back at once with its Retry-After instead of
 * letting the SDK sit out the provider's back-off inside a request the user is waiting on.
 */
const noRetryOnRateLimit: typeof fetch = async (input, init) => {
  const response = await fetch(input, init);
  if (response.status !== 429) return response;
  const headers = new Headers(response.headers);
  headers.set("x-should-retry", "false");
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
};

const clients = new WeakMap<Config["upstream"], OpenAI>();

/** One OpenAI client per isolate, for any OpenAI-compatible provider at OPENAI_BASE_URL. */
export function upstreamClient(config: Config): OpenAI {
  const settings = config.upstream;
  if (!settings.baseURL) {
    throw new ServiceUnavailableError("No upstream model provider is configured (OPENAI_BASE_URL).", { code: "upstream_not_configured" });
  }
  let client = clients.get(settings);
  if (!client) {
    client = new OpenAI({
      baseURL: settings.baseURL,
      // Local providers (Ollama, vLLM) take no key; the SDK insists on one.
      apiKey: settings.apiKey ?? "none",
      timeout: settings.timeoutMs,
      maxRetries: settings.maxRetries,
      fetch: noRetryOnRateLimit,
      // The SDK builds it from its class name, which the minified bundle does not keep.
      defaultHeaders: { "User-Agent": `OpenAI/JS ${VERSION} (concierge)` },
    });
    clients.set(settings, client);
  }
  return client;
}

export interface CompletionOptions extends UpstreamErrorOptions {
  /** Bounds every attempt together: retries share one UPSTREAM_TIMEOUT_MS, they do not each get one. */
  signal: AbortSignal;
}

/**
 * Starts a chat completion and returns the upstream's raw response once its headers are in:
 * the status is known (errors thrown as ApiErrors) and the body is left for the caller to stream.
 * The SDK retries only until then, never once a byte of the answer has been seen.
 */
export async function startCompletion(client: OpenAI, body: ChatCompletionCreateParams, options: CompletionOptions): Promise<Response> {
  try {
    return await client.chat.completions.create(body, { signal: options.signal }).asResponse();
  } catch (error) {
    throw toUpstreamError(error, options);
  }
}
