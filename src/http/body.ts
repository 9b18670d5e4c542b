import { InvalidRequestError } from "./errors";

/**
 * Far deeper than any OpenAI request (a tool's JSON schema nests a few levels), far shallower
 * than what overflows the stack of code that walks a request recursively (the openai SDK does).
 */
export const MAX_JSON_DEPTH = 64;

function tooLarge(maxBytes: number): InvalidRequestError {
  return new InvalidRequestError(`The request body is larger than ${maxBytes} bytes.`, { status: 413, code: "request_too_large" });
}

/**
 * Reads a JSON body without ever holding more than `maxBytes` of it: a declared length over the
 * limit is refused before reading, an undeclared one is counted as it streams in.
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const declared = Number(request.headers.get("Content-Length") ?? NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) throw new InvalidRequestError("The request body is empty; send a JSON object.");

  // A declared length bounds the body (HTTP frames it to that many bytes), so the runtime can read
  // it in one go instead of JavaScript taking it chunk by chunk. Checked again all the same: a
  // request made inside the runtime (a service binding's) is not framed by HTTP.
  const text = declared >= 0 ? decodeWithin(await request.arrayBuffer(), maxBytes) : await readCounted(request.body, maxBytes);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InvalidRequestError("We could not parse the JSON body of your request.", { code: "invalid_json" });
  }
  if (depthExceeds(body, MAX_JSON_DEPTH)) {
    throw new InvalidRequestError(`The JSON body nests deeper than ${MAX_JSON_DEPTH} levels.`, { code: "json_too_deep" });
  }
  return body;
}

function decodeWithin(bytes: ArrayBuffer, maxBytes: number): string {
  if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes);
  return new TextDecoder().decode(bytes);
}

/**
 * How much of a refused body, in multiples of the limit, is read and dropped before the answer.
 * A body cancelled half-read leaves its HTTP connection unusable: under `wrangler dev` the next
 * request on it, anyone's, failed with a 503 from its proxy. Past this, the connection is given up.
 */
const DRAIN_FACTOR = 4;

/** Reads and drops up to `budget` more bytes; cancels what is left beyond that. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>, budget: number): Promise<void> {
  let left = budget;
  while (left > 0) {
    const { done, value } = await reader.read();
    if (done) return;
    left -= value.byteLength;
  }
  await reader.cancel();
}

/** A body of undeclared length, refused as soon as it grows past `maxBytes` (and drained, within bounds). */
async function readCounted(stream: ReadableStream<Uint8Array>, maxBytes: number): Promise<string> {
  const reader = stream.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await drain(reader, DRAIN_FACTOR * maxBytes - size);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

/** Whether `value` nests arrays and objects more than `max` deep; iterative, so no input can overflow it. */
export function depthExceeds(value: unknown, max: number): boolean {
  const pending: Array<[unknown, number]> = [[value, 0]];
  for (let next = pending.pop(); next; next = pending.pop()) {
    const [node, depth] = next;
    if (typeof node !== "object" || node === null) continue;
    if (depth >= max) return true;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === "object" && child !== null) pending.push([child, depth + 1]);
    }
  }
  return false;
}
