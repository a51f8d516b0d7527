/** A container's process: its own process group, output to its log, signals to the whole group. */
import { type ChildProcess, spawn } from "node:child_process";
import { constants } from "node:os";
import type { LogBuffer } from "./logs.js";

/** The host variables a process needs to run at all; nothing else leaks from the host. */
const HOST_ENV = ["PATH", "HOME", "LANG", "TMPDIR", "SYSTEMROOT"];

export function spawnContainer(
  argv: string[],
  env: Record<string, string>,
  cwd: string | undefined,
): ChildProcess {
  const base: Record<string, string> = {};
  for (const k of HOST_ENV) if (process.env[k] !== undefined) base[k] = process.env[k]!;
  // Its own process group, so that deleting the Pod also kills what its command started.
  return spawn(argv[0]!, argv.slice(1), {
    cwd,
    env: { ...base, ...env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
}

/** Signals a container's whole process group. */
export function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  // The group may outlive its leader (`sh -c "sleep 60 &"`): signal it even after the leader exited.
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // Already gone.
    }
  }
}

/**
 * Starts a container's process with its output going to `log`; `onExit` gets its exit code or
 * signal, or why it could not start (a missing binary, a missing working directory).
 */
export function runProcess(
  argv: string[],
  env: Record<string, string>,
  cwd: string,
  log: LogBuffer,
  onExit: (code: number | null, signal: NodeJS.Signals | null, spawnError?: string) => void,
): { child: ChildProcess; exited: Promise<void> } {
  const child = spawnContainer(argv, env, cwd);
  let spawnError: Error | undefined;
  child.on("error", (err) => (spawnError = err));
  child.stdout!.setEncoding("utf8").on("data", (d: string) => log.write(d));
  child.stderr!.setEncoding("utf8").on("data", (d: string) => log.write(d));
  const exited = new Promise<void>((resolve) =>
    child.on("close", (code, signal) => {
      resolve();
      if (spawnError !== undefined && child.pid === undefined) onExit(null, null, spawnError.message);
      else onExit(code, signal);
    }),
  );
  return { child, exited };
}

export function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (constants.signals[signal] ?? 0);
}
