/** A request the server cannot make sense of: HTTP 400 with the message as `error`. */
export class BadRequestError extends Error {
  override name = "BadRequestError";
}

export function parseJsonBody(body: string): unknown {
  if (body.trim() === "") throw new BadRequestError("ERR empty request body, expected a JSON array");
  try {
    return JSON.parse(body);
  } catch {
    throw new BadRequestError("ERR request body is not valid JSON");
  }
}

/** `["SET", "k", "v", "EX", 100]` -> `["SET", "k", "v", "EX", "100"]`. */
export function commandFromJson(value: unknown): string[] {
  if (!Array.isArray(value)) throw new BadRequestError("ERR a command must be a JSON array of strings and numbers");
  if (value.length === 0) throw new BadRequestError("ERR empty command");
  const command = value.map(argumentFromJson);
  if (command[0] === "") throw new BadRequestError("ERR empty command name");
  return command;
}

/** `[["SET", "k", "v"], ["GET", "k"]]` for /pipeline and /multi-exec. */
export function commandsFromJson(value: unknown): string[][] {
  if (!Array.isArray(value)) throw new BadRequestError("ERR expected a JSON array of commands");
  if (value.length === 0) throw new BadRequestError("ERR no commands given");
  return value.map(commandFromJson);
}

// The SDK serialises numbers and booleans as JSON values; Redis only has strings, and Upstash
// turns them into their text form.
function argumentFromJson(arg: unknown): string {
  if (typeof arg === "string") return arg;
  if (typeof arg === "number" && Number.isFinite(arg)) return String(arg);
  if (typeof arg === "boolean") return String(arg);
  throw new BadRequestError(`ERR command arguments must be strings or numbers, got ${arg === null ? "null" : typeof arg}`);
}

/**
 * Path style, for curl: `/set/foo/bar?EX=100` -> `["set", "foo", "bar", "EX", "100"]`. A non-empty
 * POST body becomes the argument after the path ones (so values need no URL-encoding), and query
 * parameters other than `_token` follow as name, then value if it has one.
 */
export function commandFromPath(pathname: string, query: URLSearchParams, body: string): string[] {
  const segments = pathname.split("/").slice(1);
  if (segments.length > 1 && segments.at(-1) === "") segments.pop();
  let command: string[];
  try {
    command = segments.map((segment) => decodeURIComponent(segment));
  } catch {
    throw new BadRequestError("ERR malformed percent-encoding in the request path");
  }
  if (command[0] === undefined || command[0] === "") throw new BadRequestError("ERR no command in the request path");
  if (body !== "") command.push(body);
  for (const [name, value] of query) {
    if (name === "_token") continue;
    command.push(name);
    if (value !== "") command.push(value);
  }
  return command;
}
