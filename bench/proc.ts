import { readdirSync, readFileSync } from "node:fs";

/** Clock ticks per second for /proc's utime/stime: 100 on every Linux this runs on (USER_HZ). */
const TICKS_PER_SECOND = 100;

interface Stat {
  pid: number;
  ppid: number;
  command: string;
  /** utime + stime of the process itself, in ticks. */
  ticks: number;
}

function stat(pid: number): Stat | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command is in parentheses and may itself contain spaces or parentheses.
    const close = text.lastIndexOf(")");
    const fields = text.slice(close + 2).split(" ");
    return { pid, ppid: Number(fields[1]), command: text.slice(text.indexOf("(") + 1, close), ticks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

function all(): Stat[] {
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .map((name) => stat(Number(name)))
    .filter((s): s is Stat => s !== undefined);
}

/** `root` and every process below it. */
export function treeOf(root: number): number[] {
  const stats = all();
  const tree = [root];
  for (let i = 0; i < tree.length; i++) for (const s of stats) if (s.ppid === tree[i]) tree.push(s.pid);
  return tree;
}

/** The live processes below `parent` whose command is `command` (e.g. the workerd a Miniflare started). */
export function childrenNamed(parent: number, command: string): number[] {
  return treeOf(parent).filter((pid) => pid !== parent && stat(pid)?.command === command);
}

/** CPU milliseconds (user + system) the processes of `root`'s tree have used so far. */
export function cpuMsOfTree(root: number): number {
  return treeOf(root).reduce((sum, pid) => sum + (stat(pid)?.ticks ?? 0), 0) * (1000 / TICKS_PER_SECOND);
}
