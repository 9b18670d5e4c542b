import type { Reply } from "./backend";

export type ResponseEncoding = "base64" | "plain";

export type EncodedReply = string | number | null | EncodedReply[];

/**
 * `Upstash-Encoding: base64` asks for every string as base64 of its UTF-8 bytes, which keeps binary
 * and unicode values intact through JSON. A top-level "OK" stays readable, as Upstash sends it and
 * the SDK's `decode` expects. Inside arrays everything is encoded: the SDK base64-decodes each
 * string element unconditionally, so a raw "OK" there would come out as garbage.
 */
export function encodeReply(reply: Reply, encoding: ResponseEncoding): EncodedReply {
  if (encoding === "plain") return plain(reply);
  if (reply === "OK" || (reply instanceof Uint8Array && isOk(reply))) return "OK";
  return base64(reply);
}

function plain(reply: Reply): EncodedReply {
  if (reply instanceof Uint8Array) return bytes(reply).toString("utf8");
  if (Array.isArray(reply)) return reply.map(plain);
  return reply;
}

function base64(reply: Reply): EncodedReply {
  if (typeof reply === "string") return Buffer.from(reply, "utf8").toString("base64");
  if (reply instanceof Uint8Array) return bytes(reply).toString("base64");
  if (Array.isArray(reply)) return reply.map(base64);
  return reply;
}

function bytes(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function isOk(value: Uint8Array): boolean {
  return value.length === 2 && value[0] === 0x4f && value[1] === 0x4b;
}
