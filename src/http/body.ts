import { InvalidRequestError } from "./errors";

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

  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
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
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw new InvalidRequestError("We could not parse the JSON body of your request.", { code: "invalid_json" });
  }
}
