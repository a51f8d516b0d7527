/**
 * What a test file left running: Database handles it opened and did not close, and processes it
 * started, directly or not, still alive (read from /proc, so Linux only; elsewhere none are
 * found). Used after each test file by leaks.ts.
 */
import { readFileSync, readdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { openDatabaseHandles, type OpenDatabaseInfo } from "../../src/db/open-handles.js";

export interface ChildProcessInfo {
  readonly pid: number;
  readonly command: string;
  /** Start time (clock ticks after boot): with the pid, names one process even if pids are reused. */
  readonly started: string;
}

export interface Leaks {
  readonly databases: readonly OpenDatabaseInfo[];
  readonly processes: readonly ChildProcessInfo[];
}

/**
 * What was running before the test file started (not its leaks), and every descendant seen since:
 * a grandchild whose parent was killed is no longer a descendant, but still the file's doing (a
 * task runner outliving its killed scheduler), so `sample` is called every so often to see it.
 */
export class Baseline {
  readonly databases: ReadonlySet<OpenDatabaseInfo> = new Set(openDatabaseHandles());
  readonly #before = new Set(descendants(process.pid).map(key));
  readonly #seen = new Map<string, ChildProcessInfo>();

  sample(): void {
    for (const p of descendants(process.pid)) if (!this.#before.has(key(p))) this.#seen.set(key(p), p);
  }

  /** Processes started since, still alive. */
  alive(): ChildProcessInfo[] {
    this.sample();
    return [...this.#seen.values()].filter((p) => {
      const now = info(p.pid);
      return now !== undefined && now.started === p.started;
    });
  }
}

export function baseline(): Baseline {
  return new Baseline();
}

const key = (p: ChildProcessInfo): string => `${p.pid}@${p.started}`;

function read(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8");
  } catch {
    return undefined;
  }
}

function childrenOf(pid: number): number[] {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  // Each thread has its own children (a worker thread may spawn too).
  return tasks.flatMap((tid) =>
    (read(`/proc/${pid}/task/${tid}/children`) ?? "").split(/\s+/).filter(Boolean).map(Number),
  );
}

/**
 * esbuild runs one service process for all builds of a process, and it ends when its parent
 * does: esbuild's own design, not a test's leak.
 */
function isEsbuildService(command: string): boolean {
  return /(^|\/)esbuild\s/.test(command) && command.includes("--service=");
}

/** A live process (zombies, which exited and wait to be reaped, count as gone), or undefined. */
function info(pid: number): ChildProcessInfo | undefined {
  const stat = read(`/proc/${pid}/stat`);
  if (stat === undefined) return undefined;
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (fields[0] === "Z" || fields[0] === "X") return undefined;
  const command = (read(`/proc/${pid}/cmdline`) ?? "").split("\0").join(" ").trim();
  return { pid, command, started: fields[19] ?? "" };
}

/** Live descendants of `pid` (children, their children…), the esbuild service left out. */
export function descendants(pid: number): ChildProcessInfo[] {
  const out: ChildProcessInfo[] = [];
  for (const child of childrenOf(pid)) {
    const p = info(child);
    if (p === undefined || isEsbuildService(p.command)) continue;
    out.push(p, ...descendants(child));
  }
  return out;
}

function current(since: Baseline): Leaks {
  return {
    databases: openDatabaseHandles().filter((d) => !since.databases.has(d)),
    processes: since.alive(),
  };
}

/**
 * Leaks since `since`. Something a test stopped without waiting for (a process killed, a close
 * not awaited) gets `graceMs` to finish before it counts.
 */
export async function findLeaks(since: Baseline, graceMs = 2500): Promise<Leaks> {
  const deadline = Date.now() + graceMs;
  let leaks = current(since);
  while (leaks.databases.length + leaks.processes.length > 0 && Date.now() < deadline) {
    await sleep(100);
    leaks = current(since);
  }
  return leaks;
}

/** A message naming each leak, or null when there is none. */
export function describeLeaks(leaks: Leaks): string | null {
  if (leaks.databases.length + leaks.processes.length === 0) return null;
  const lines = [
    ...leaks.databases.map((d) => `  - an open ${d.dialect} Database (${d.where}), opened at ${d.openedAt}`),
    ...leaks.processes.map((p) => `  - child process ${p.pid}: ${p.command.slice(0, 300)}`),
  ];
  return [
    "This test file left running what it started; stop it in an afterAll or afterEach hook",
    "(close each Database, kill each child process and wait for its exit):",
    ...lines,
  ].join("\n");
}
