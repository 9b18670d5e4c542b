/**
 * Reads the profile callgrind writes of workerd (bench/instructions.ts): the instructions one dump
 * spent in each function, sorted into a few kinds, so that what concierge adds over the runtime's
 * floor can be told apart (JS the JIT compiled, code still in V8's baseline tier, the garbage
 * collector, JSON, the runtime's HTTP and streams).
 */
import { readFileSync } from "node:fs";

/** The kinds of work, in the order a report lists them. */
export const KINDS = [
  "optimized JS (JIT code)",
  "baseline JS and inline caches",
  "other V8 builtins",
  "JSON parse and stringify",
  "V8 garbage collector",
  "V8 compilers and parser",
  "V8 runtime (objects, strings, API)",
  "workerd and kj (HTTP, streams, event loop)",
  "malloc, memcpy, other native",
] as const;
export type Kind = (typeof KINDS)[number];

const GC = /Scavenger|heap::|Heap::|MarkCompact|Sweeper|GlobalHandles|TracedHandles|Weak|Marking|Evacuat|BodyDescriptor|IsUnmodifiedApiObject/;
const COMPILER = /compiler::|maglev|Maglev|turboshaft|baseline::|Compiler|Parser<|PreParser|interpreter::|Bytecode|Scope::|Zone/;

export function kindOf(object: string, fn: string): Kind {
  // JIT code lives in anonymous memory, so valgrind knows neither its object nor its name.
  if (object === "???" || fn.startsWith("0x")) return "optimized JS (JIT code)";
  if (fn.includes("Json")) return "JSON parse and stringify";
  if (fn.startsWith("Builtins_")) return /Baseline|IC/.test(fn) ? "baseline JS and inline caches" : "other V8 builtins";
  if (GC.test(fn)) return "V8 garbage collector";
  if (COMPILER.test(fn)) return "V8 compilers and parser";
  if (fn.startsWith("v8::")) return "V8 runtime (objects, strings, API)";
  if (/^(workerd|kj|capnp)::/.test(fn)) return "workerd and kj (HTTP, streams, event loop)";
  return "malloc, memcpy, other native";
}

const NAMING = /^(ob|fl|fi|fe|fn|cob|cfi|cfl|cfn)=\((\d+)\)(?: (.*))?$/;

/**
 * Instructions by kind in dump `part` of a process's profile (`<prefix>.out.<part>`). Callgrind
 * names each object and function once per process, in the first dump that needs it, and by number
 * after that: so every earlier dump is read for its names.
 */
export function instructionsByKind(prefix: string, part: number): Record<Kind, number> {
  const objects = new Map<string, string>();
  const functions = new Map<string, string>();
  const byKind = Object.fromEntries(KINDS.map((kind) => [kind, 0])) as Record<Kind, number>;
  let object = "";
  let fn = "";
  for (let n = 1; n <= part; n++) {
    let afterCall = false;
    for (const line of readFileSync(`${prefix}.out.${n}`, "utf8").split("\n")) {
      const naming = line.match(NAMING);
      if (naming) {
        const [, key, id, name] = naming;
        const names = key === "ob" || key === "cob" ? objects : key === "fn" || key === "cfn" ? functions : undefined;
        if (names && name !== undefined) names.set(id!, name);
        if (key === "ob") object = objects.get(id!) ?? id!;
        if (key === "fn") fn = functions.get(id!) ?? id!;
        continue;
      }
      if (line.startsWith("calls=")) {
        afterCall = true;
        continue;
      }
      if (!/^[0-9+*-]/.test(line)) continue;
      // The cost line after calls= is what the call cost in all (the callee's own lines count it).
      if (afterCall) {
        afterCall = false;
        continue;
      }
      if (n !== part) continue;
      const cost = Number(line.split(" ")[1]);
      if (Number.isFinite(cost)) byKind[kindOf(object, fn)] += cost;
    }
  }
  return byKind;
}
