import { createRequire } from "node:module";

/** One row of Redis's COMMAND output: how many arguments a command takes and where its keys are. */
export interface CommandSpec {
  name: string;
  /** Counting the name itself; negative means "at least". */
  arity: number;
  flags: ReadonlySet<string>;
  /** Positions counting the name as 0; lastKey < 0 counts from the end. */
  firstKey: number;
  lastKey: number;
  step: number;
  /** ACL categories: @string, @list, @hash, @set, @sortedset, @keyspace, ... */
  categories: ReadonlySet<string>;
  subcommands: ReadonlyMap<string, CommandSpec>;
}

// ioredis-mock ships the COMMAND output of the Redis version it emulates; reusing it keeps arity
// and key positions exactly Redis's without copying the table.
const table = new Map(parseRows(createRequire(import.meta.url)("ioredis-mock/data/command-info.json")).map((spec) => [spec.name, spec]));

export function commandSpec(name: string): CommandSpec | undefined {
  return table.get(name.toLowerCase());
}

export function arityAccepts(spec: CommandSpec, argumentCount: number): boolean {
  const total = argumentCount + 1;
  return spec.arity >= 0 ? total === spec.arity : total >= -spec.arity;
}

/** The arguments (name not included) that are keys, per the command's fixed key positions. */
export function keyArguments(spec: CommandSpec, args: readonly string[]): string[] {
  if (spec.firstKey <= 0) return [];
  const last = spec.lastKey >= 0 ? spec.lastKey : args.length + 1 + spec.lastKey;
  const keys: string[] = [];
  for (let position = spec.firstKey; position <= last && position <= args.length; position += Math.max(spec.step, 1)) {
    const key = args[position - 1];
    if (key !== undefined) keys.push(key);
  }
  return keys;
}

function parseRows(rows: unknown): CommandSpec[] {
  if (!Array.isArray(rows)) throw new Error("ioredis-mock/data/command-info.json is not an array");
  return rows.map(parseRow);
}

function parseRow(row: unknown): CommandSpec {
  if (!Array.isArray(row)) throw new Error("unexpected row in ioredis-mock/data/command-info.json");
  const [name, arity, flags, firstKey, lastKey, step, categories, , , subcommands]: unknown[] = row;
  if (typeof name !== "string" || typeof arity !== "number" || typeof firstKey !== "number" || typeof lastKey !== "number" || typeof step !== "number") {
    throw new Error(`unexpected row in ioredis-mock/data/command-info.json: ${JSON.stringify(row).slice(0, 80)}`);
  }
  const children = Array.isArray(subcommands) ? subcommands.map(parseRow) : [];
  return {
    name: name.toLowerCase(),
    arity,
    flags: new Set(strings(flags)),
    firstKey,
    lastKey,
    step,
    categories: new Set(strings(categories)),
    // Listed as "script|load"; looked up by "load".
    subcommands: new Map(children.map((child) => [child.name.slice(child.name.indexOf("|") + 1), child])),
  };
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}
