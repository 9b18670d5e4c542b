import type { ChunkLike } from "../messages/reply";
import type { StreamFormat } from "../turn/relay";
import type { ApiError } from "../http/errors";
import { newId } from "./ids";
import { outputText, type FunctionCallOutput, type MessageOutput, type OutputItem } from "./items";
import { endOf, responseObject, usageOf, type ResponseObject, type ResponseShell, type ResponseUsage } from "./response-object";

/**
 * A chat completion stream as the Responses API's typed events: response.created and
 * response.in_progress at once; an output item per message and per tool call, each added, filled
 * by deltas and done; then response.completed (or .incomplete) once the turn is saved, or
 * response.failed. Every event has the next sequence_number; item ids and output indexes never
 * change, and the final response lists exactly the items the events built.
 */
export class ResponseEvents implements StreamFormat {
  private sequence = 0;
  private readonly output: OutputItem[] = [];
  /** The message item text is going to, until a tool call starts. */
  private message: MessageOutput | undefined;
  /** Tool calls by the upstream's tool call index. */
  private readonly calls = new Map<number, FunctionCallOutput>();
  private readonly done = new Set<OutputItem>();
  private finishReason: string | null = null;
  private usage: ResponseUsage | null = null;
  private result: ResponseObject | undefined;
  /** The empty message final() gave a reply with nothing in it, announced by end(). */
  private unannounced: MessageOutput | undefined;

  constructor(
    private readonly shell: ResponseShell,
    /** The session item ids name (undefined for store: false). */
    private readonly session: string | undefined,
  ) {}

  private emit(type: string, fields: Record<string, unknown>): string {
    return `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.sequence++, ...fields })}\n\n`;
  }

  start(): string {
    const response = responseObject(this.shell, { status: "in_progress", output: [], usage: null });
    return this.emit("response.created", { response }) + this.emit("response.in_progress", { response });
  }

  event(_raw: string, chunk: ChunkLike): string {
    if (chunk.usage) this.usage = usageOf(chunk.usage) ?? this.usage;
    const choice = chunk.choices?.find((c) => (c.index ?? 0) === 0);
    if (!choice) return "";
    let out = "";
    const delta = choice.delta ?? {};
    // As ReplyBuilder reads it: the text, else a refusal.
    const text = typeof delta.content === "string" && delta.content ? delta.content : typeof delta.refusal === "string" ? delta.refusal : "";
    if (text) {
      if (!this.message) out += this.opened(this.newMessage());
      const item = this.message!;
      item.content[0]!.text += text;
      out += this.emit("response.output_text.delta", { item_id: item.id, output_index: this.output.indexOf(item), content_index: 0, delta: text, logprobs: [] });
    }
    for (const call of Array.isArray(delta.tool_calls) ? delta.tool_calls : []) {
      const index = call.index ?? 0;
      let item = this.calls.get(index);
      if (!item) {
        if (this.message) out += this.close(this.message);
        item = { type: "function_call", id: newId("fc", this.session), status: "in_progress", call_id: call.id ?? "", name: call.function?.name ?? "", arguments: "" };
        this.calls.set(index, item);
        this.output.push(item);
        out += this.emit("response.output_item.added", { output_index: this.output.length - 1, item: { ...item } });
      } else {
        // Providers send the id and name with a call's first delta; one that sends them later is still heard.
        if (call.id && !item.call_id) item.call_id = call.id;
        if (call.function?.name && !item.name) item.name = call.function.name;
      }
      const args = call.function?.arguments;
      if (typeof args === "string" && args) {
        item.arguments += args;
        out += this.emit("response.function_call_arguments.delta", { item_id: item.id, output_index: this.output.indexOf(item), delta: args });
      }
    }
    if (choice.finish_reason) this.finishReason = choice.finish_reason;
    return out;
  }

  /** The finished response: what the turn stores, and what response.completed carries. */
  final(): ResponseObject {
    if (!this.result) {
      const { status, incomplete_details } = endOf(this.finishReason);
      // A reply with nothing in it is still one (empty) message, as a non-streamed answer has;
      // its events go out with the end.
      if (this.output.length === 0) this.unannounced = this.newMessage();
      for (const item of this.output) if (!this.done.has(item)) item.status = status;
      this.result = responseObject(this.shell, { status, incomplete_details, output: this.output, usage: this.usage });
    }
    return this.result;
  }

  end(): string {
    const response = this.final();
    let out = this.unannounced ? this.opened(this.unannounced) : "";
    for (const item of this.output) if (!this.done.has(item)) out += this.close(item);
    return out + this.emit(response.status === "incomplete" ? "response.incomplete" : "response.completed", { response });
  }

  fail(error: ApiError): string {
    const response = responseObject(this.shell, {
      status: "failed",
      output: this.output.filter((item) => this.done.has(item)),
      usage: this.usage,
      error: { code: error.code ?? "server_error", message: error.message },
    });
    return this.emit("response.failed", { response });
  }

  /** A message item for text deltas to fill, with its one text part; announced by opened(). */
  private newMessage(): MessageOutput {
    const item: MessageOutput = { type: "message", id: newId("msg", this.session), status: "in_progress", role: "assistant", content: [outputText("")] };
    this.output.push(item);
    this.message = item;
    return item;
  }

  /** The events that announce a message item: the item (still empty), then its text part. */
  private opened(item: MessageOutput): string {
    const output_index = this.output.indexOf(item);
    return (
      this.emit("response.output_item.added", { output_index, item: { ...item, status: "in_progress", content: [] } }) +
      this.emit("response.content_part.added", { item_id: item.id, output_index, content_index: 0, part: outputText("") })
    );
  }

  private close(item: OutputItem): string {
    this.done.add(item);
    const output_index = this.output.indexOf(item);
    if (item.status === "in_progress") item.status = "completed";
    if (item.type === "function_call") {
      return (
        this.emit("response.function_call_arguments.done", { item_id: item.id, output_index, name: item.name, arguments: item.arguments }) +
        this.emit("response.output_item.done", { output_index, item })
      );
    }
    if (item === this.message) this.message = undefined;
    const part = item.content[0]!;
    return (
      this.emit("response.output_text.done", { item_id: item.id, output_index, content_index: 0, text: part.text, logprobs: [] }) +
      this.emit("response.content_part.done", { item_id: item.id, output_index, content_index: 0, part }) +
      this.emit("response.output_item.done", { output_index, item })
    );
  }
}
