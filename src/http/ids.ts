import { InvalidRequestError } from "./errors";

/** User and session ids: safe inside Redis keys, Cosmos ids and URLs. */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

export function validId(value: string | undefined | null, param: string): string {
  if (value === undefined || value === null || !ID_PATTERN.test(value)) {
    throw new InvalidRequestError(`${param} must match ${ID_PATTERN.source}`, { param, code: "invalid_id" });
  }
  return value;
}

export function newSessionId(): string {
  return `s_${crypto.randomUUID().replaceAll("-", "")}`;
}
