import { createHmac } from "node:crypto";

/**
 * Cosmos DB's master-key authorization, written from Microsoft's description and nothing else,
 * to check what the SDK signs: HMAC-SHA256 with the base64-decoded key over
 * "verb\nresourceType\nresourceLink\ndate\n\n" (verb, type and date lower-cased), then
 * url-encoded "type=master&ver=1.0&sig=<base64>".
 */
export function signCosmos(request: { verb: string; resourceType: string; resourceLink: string; date: string; key: string }): string {
  const text = `${request.verb.toLowerCase()}\n${request.resourceType.toLowerCase()}\n${request.resourceLink}\n${request.date.toLowerCase()}\n\n`;
  const signature = createHmac("sha256", Buffer.from(request.key, "base64")).update(text, "utf8").digest("base64");
  return encodeURIComponent(`type=master&ver=1.0&sig=${signature}`);
}
