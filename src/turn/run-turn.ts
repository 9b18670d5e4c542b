import type { Context } from "hono";
import type { ChatCompletionCreateParams } from "openai/resources/chat/completions";
import { UpstreamError } from "../http/errors";
import { log } from "../http/log";
import { splitConversation } from "../messages/conversation";
import { replyFromCompletion, type AssistantMessage } from "../messages/reply";
import type { ChatMessage, ChatRequest } from "../messages/schema";
import type { ChatUsage } from "../messages/usage";
import { instructionText } from "../messages/text";
import { askUpstream, readUpstreamBody } from "../upstream/ask";
import { upstreamClient } from "../upstream/client";
import { idempotencyKey } from "./idempotency-key";
import { resolveModel } from "./model";
import { openTurn, type RecordWithin, type Turn } from "./open-turn";
import { relayStream, type StreamFormat } from "./relay";
import { syncToken } from "./sync-token";
import type { TurnEnv } from "./turn-env";
import { applyWidgetPolicy } from "./widget-policy";

export const SSE = "text/event-stream; charset=utf-8";
export const JSON_TYPE = "application/json";

/** A front door's request, translated into the turn's terms. */
export interface TurnInput {
  /** The request in Chat Completions form, with the client's messages and model as it named it. */
  request: ChatRequest;
  /** Where the client's messages were (`messages`, `input`): errors about them name it. */
  param: string;
  user: string;
  /** Absent for a stateless request: nothing is read or written but the user's preferences. */
  session: string | undefined;
  /** A Responses API id the turn continues. */
  previousResponse?: string | undefined;
  /** Which of the client's earlier messages may seed a new session (default: all). */
  seeds?: (message: ChatMessage) => boolean;
  protocol: "chat" | "responses";
}

/** What the turn knows once it is open, for the front door to encode its answer. */
export interface OpenedTurn {
  turn: Turn;
  /** The model asked, as the upstream is asked for it. */
  model: string;
  /** The request the upstream is asked, after the widget policy. */
  request: ChatRequest;
  stream: boolean;
  /** What this request adds to its session: the earlier messages a new session starts with, then the new turn. */
  added: readonly ChatMessage[];
}

/** A whole answer's body, and the Responses record to save with it. */
export interface Encoded {
  contentType: string;
  body: string;
  record?: RecordWithin | undefined;
}

/** The answer's wire format: the front door's half of a turn. */
export interface ReplyEncoder {
  /** A streamed answer: how upstream events reach the client, and the record its end leaves. */
  format: StreamFormat;
  streamedRecord?: () => RecordWithin | undefined;
  /** A non-streamed answer, from the upstream's completion (its text as received, parsed, and its reply). */
  completion(answer: { text: string; contentType: string | null; completion: Completion; reply: AssistantMessage }): Encoded;
  /** A reply the session already committed under the request's Idempotency-Key, answered again. */
  replay(reply: AssistantMessage, stream: boolean): Encoded;
  /** The front door's last word before the model is asked (a retry's replay comes first). */
  check?: () => void;
}

/** The upstream's non-streamed answer, as far as the turn reads it. */
export interface Completion {
  choices?: Array<{ finish_reason?: string | null }>;
  usage?: ChatUsage | null;
}

/**
 * One turn, whatever protocol brought it: the model chosen and the widget policy applied, the
 * turn opened (rate limit, memory, window), the upstream asked, and its answer relayed while the
 * turn commits it, or answered again from the session for a retry. The front door parses and
 * translates the request and encodes the answer (`encoderOf`); everything between is here.
 */
export async function runTurn(c: Context<TurnEnv>, input: TurnInput, encoderOf: (opened: OpenedTurn) => ReplyEncoder): Promise<Response> {
  const config = c.get("config");
  const caller = c.get("caller");
  const timing = c.get("timing");

  const model = resolveModel(input.request.model, caller, config.upstream);
  const conversation = splitConversation(input.request.messages, input.param);
  const request = applyWidgetPolicy(input.request, conversation, caller, config.widget, input.param);
  const stream = Boolean(request.stream);
  const upstream = upstreamClient(config); // before any memory work: an unconfigured upstream fails fast
  const earlier = input.seeds ? conversation.earlier.filter(input.seeds) : conversation.earlier;

  const turn = await openTurn({
    config,
    caller,
    user: input.user,
    session: input.session,
    idempotencyKey: idempotencyKey(c.req.header("Idempotency-Key")),
    // In a session's Durable Object attach runs one attempt per key at a time: a claim found there is a failed attempt's.
    retriesSerialized: c.get("replyLog") !== undefined,
    model,
    syncToken: syncToken(c.req.header("X-Session-Sync")),
    previousResponse: input.previousResponse,
    instructions: conversation.instructions.length
      ? { text: instructionText(conversation.instructions), role: conversation.instructions[0]!.role }
      : undefined,
    earlier,
    newTurn: conversation.newTurn,
    timing,
    background: (work) => c.executionCtx.waitUntil(work),
    describe: { protocol: input.protocol, model, stream },
    recall: c.req.header("X-Memory-Recall")?.trim().toLowerCase() !== "off",
  });
  // The turn holds its Idempotency-Key until it commits: a failure before then lets a retry run at once.
  try {
    const added = turn.fresh ? [...earlier, ...conversation.newTurn] : conversation.newTurn;
    const encoder = encoderOf({ turn, model, request, stream, added });

    // A retry is answered from the session, whatever has become of what it referred to since.
    if (turn.replay) return replayed(c, turn, encoder, turn.replay, stream);
    encoder.check?.();

    const body = { ...request, model, messages: turn.messages } as ChatCompletionCreateParams;
    const asked = await askUpstream(upstream, body, { timeoutMs: config.upstream.timeoutMs, timing, providerMessages: caller.kind === "api_key" });

    if (stream) {
      // From here the idle timeout bounds the stream, however long the answer.
      asked.deadline.cancel();
      const relay = relayStream(asked.response.body, {
        idleTimeoutMs: config.upstream.idleTimeoutMs,
        clientGone: c.req.raw.signal,
        format: encoder.format,
        complete: async (reply) => void (await turn.commit(reply, encoder.streamedRecord?.())),
        onFailure: (reason) => {
          log("warn", "stream_failed", { ...turn.logFields, reason });
          c.executionCtx.waitUntil(turn.release());
        },
        into: c.get("replyLog"),
      });
      c.executionCtx.waitUntil(relay.finished);
      turn.headers["Cache-Control"] = "no-cache";
      return answer(c, turn, SSE, relay.body);
    }

    const text = await readUpstreamBody(asked);
    const completion = parseCompletion(text);
    const reply = replyFromCompletion(completion);
    if (!reply) throw new UpstreamError(502, "The upstream model provider sent a completion without a message.", { code: "upstream_bad_response" });
    const encoded = encoder.completion({ text, contentType: asked.response.headers.get("Content-Type"), completion, reply });
    const standing = await turn.commit(reply, encoded.record);
    // A retry that raced its first attempt: the first one's reply is the one the session remembers.
    if (standing !== reply) return replayed(c, turn, encoder, standing, false);
    return answer(c, turn, encoded.contentType, encoded.body);
  } catch (error) {
    await turn.release();
    throw error;
  }
}

/**
 * A reply this session already committed (an Idempotency-Key retry), answered again. A Responses
 * record is saved like any other (the turn itself is not appended twice), so the client can chain
 * from the id it was given.
 */
async function replayed(c: Context<TurnEnv>, turn: Turn, encoder: ReplyEncoder, reply: AssistantMessage, stream: boolean): Promise<Response> {
  turn.headers["Idempotent-Replayed"] = "true";
  const encoded = encoder.replay(reply, stream);
  if (encoded.record) await turn.commit(reply, encoded.record);
  return answer(c, turn, encoded.contentType, encoded.body);
}

/** A turn's answer: its headers (session, limits, window), the timings so far, and the body. */
function answer(c: Context<TurnEnv>, turn: Turn, contentType: string, body: string | ReadableStream<Uint8Array>): Response {
  turn.headers["Content-Type"] = contentType;
  turn.headers["Server-Timing"] = c.get("timing").header();
  return c.newResponse(body, 200, turn.headers);
}

function parseCompletion(text: string): Completion {
  try {
    const body: unknown = JSON.parse(text);
    if (body && typeof body === "object") return body;
  } catch {
    // below
  }
  throw new UpstreamError(502, "The upstream model provider sent a completion that is not JSON.", { code: "upstream_bad_response" });
}
