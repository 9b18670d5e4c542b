import type OpenAI from "openai";
import type { ChatCompletionCreateParams } from "openai/resources/chat/completions";
import { abortAfter } from "../http/deadline";
import { UpstreamError } from "../http/errors";
import type { ServerTiming } from "../http/server-timing";
import { startCompletion } from "./client";

export interface Asked {
  response: Response & { body: ReadableStream<Uint8Array> };
  /** Still running for a non-streamed answer's body; a stream cancels it and is bounded by the idle timeout. */
  deadline: ReturnType<typeof abortAfter>;
}

export interface AskOptions {
  timeoutMs: number;
  timing: ServerTiming;
  /** Whether the provider's own error messages may reach the caller (trusted API-key callers). */
  providerMessages: boolean;
}

/**
 * Asks the upstream for a chat completion, under one deadline for the answer's headers over every
 * attempt. Resolves once the status is known; the body is left for the caller to read or relay.
 */
export async function askUpstream(upstream: OpenAI, body: ChatCompletionCreateParams, options: AskOptions): Promise<Asked> {
  const deadline = abortAfter(options.timeoutMs);
  const response = await options.timing
    .measure("upstream", () => startCompletion(upstream, body, { signal: deadline.signal, providerMessages: options.providerMessages }))
    .catch((error: unknown) => {
      deadline.cancel();
      throw error;
    });
  if (!response.body) {
    deadline.cancel();
    throw new UpstreamError(502, "The upstream model provider sent an empty response.");
  }
  return { response: response as Asked["response"], deadline };
}

/** The non-streamed answer, within what is left of the deadline (whose signal aborts the read). */
export async function readUpstreamBody({ response, deadline }: Asked): Promise<string> {
  try {
    return await response.text();
  } catch {
    if (deadline.signal.aborted) {
      throw new UpstreamError(504, "The upstream model provider did not finish its answer in time.", { code: "upstream_timeout" });
    }
    throw new UpstreamError(502, "The connection to the upstream model provider broke.", { code: "upstream_stream_broken" });
  } finally {
    deadline.cancel();
  }
}
