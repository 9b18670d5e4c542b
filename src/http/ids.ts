import { InvalidRequestError } from "./errors";

/**
 * User and session ids: safe inside Redis keys, Cosmos ids and URLs. Never only dots: `.` and `..`
 * are path segments, and the Cosmos REST path `/docs/..` resolves to the container itself.
 */
export const ID_PATTERN = /^(?!\.+$)[A-Za-z0-9._:-]{1,128}$/;

/** ID_PATTERN in words, for error messages. */
export const ID_RULE = "1 to 128 characters of A-Z, a-z, 0-9, '.', '_', ':' and '-', not only dots";

export function validId(value: string | undefined | null, param: string): string {
  if (value === undefined || value === null || !ID_PATTERN.test(value)) {
    throw new InvalidRequestError(`${param} must be ${ID_RULE}.`, { param, code: "invalid_id" });
  }
  return value;
}

export function newSessionId(): string {
  return `s_${crypto.randomUUID().replaceAll("-", "")}`;
}
