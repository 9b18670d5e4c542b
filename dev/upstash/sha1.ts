import { createHash } from "node:crypto";

/** Hex SHA1 of a script's UTF-8 text: how Redis names scripts for EVALSHA. */
export function sha1(text: string): string {
  return createHash("sha1").update(text, "utf8").digest("hex");
}
