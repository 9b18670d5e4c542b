import { InvalidRequestError } from "./errors";

/** A zod issue's path as OpenAI names a parameter: `messages[2].content`. */
export function paramOf(path: readonly PropertyKey[], prefix = ""): string {
  return path.reduce<string>(
    (param, key) => (typeof key === "number" ? `${param}[${key}]` : param ? `${param}.${String(key)}` : String(key)),
    prefix,
  );
}

/** The first thing zod found wrong, as the 400 a client reads. */
export function invalidRequestFrom(issues: ReadonlyArray<{ path: readonly PropertyKey[]; message: string }>, prefix = ""): InvalidRequestError {
  const issue = issues[0]!;
  const param = paramOf(issue.path, prefix);
  return new InvalidRequestError(`Invalid value for '${param || "body"}': ${issue.message}`, { param: param || null });
}
