import type { IncomingMessage } from "node:http";

export class BodyTooLargeError extends Error {
  override name = "BodyTooLargeError";
}

/**
 * The whole request body as UTF-8. Past `limitBytes` it keeps draining but stops buffering, then
 * rejects: answering before the client has finished sending tends to reach it as a reset
 * connection instead of a 413.
 */
export function readBody(request: IncomingMessage, limitBytes: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limitBytes) chunks.push(chunk);
    });
    request.on("end", () => {
      if (size > limitBytes) reject(new BodyTooLargeError(`ERR request body is larger than ${limitBytes} bytes`));
      else resolve(Buffer.concat(chunks).toString("utf8"));
    });
    request.on("error", reject);
  });
}
