// Keeps one task's misbehaviour inside its own try: while a try runs, `process.exit`, an uncaught
// exception, an unhandled rejection and SIGTERM end that try (as failed) instead of silently
// killing the runner or leaking into the next task. Outside a try they mark the process dirty so
// that the worker retires it.
import { formatDuration } from "../common/duration.js";
import { errorSummary } from "./user-stack.js";

/** Why a try was cut short. */
export type Interrupt =
  | { kind: "timeout"; timeoutMs: number }
  | { kind: "exit"; code: number }
  | { kind: "uncaught"; error: unknown }
  | { kind: "terminated"; signal: string }
  /** The server gave the try away (heartbeat 409): stop at once and report nothing. */
  | { kind: "conflict" }
  /** Heartbeats kept failing: the server will declare the try lost, so stop before it does. */
  | { kind: "api_lost"; error: unknown };

/** What the try's log and its failure say about an interrupt. */
export function interruptMessage(i: Interrupt): string {
  switch (i.kind) {
    case "timeout":
      return `Task exceeded its execution timeout of ${formatDuration(i.timeoutMs)}.`;
    case "exit":
      return `The task called process.exit(${i.code}); a task must return or throw instead.`;
    case "uncaught":
      return `An error escaped the task (uncaught exception or unhandled rejection): ${errorSummary(i.error)}`;
    case "terminated":
      return `The runner received ${i.signal} and stopped the task.`;
    case "conflict":
      return "The API server no longer considers this try running (heartbeat refused with 409): the task was stopped and nothing is reported.";
    case "api_lost":
      return `The runner lost contact with the API server (${errorSummary(i.error)}): the task was stopped; the server will time the try out.`;
  }
}

/** Thrown inside the task by the overridden `process.exit`, to unwind its synchronous code. */
export class ProcessExitCalled extends Error {
  override readonly name = "ProcessExitCalled";
  readonly code: number;
  constructor(code: number) {
    super(`The task called process.exit(${code}).`);
    this.code = code;
  }
}

interface ActiveTry {
  interrupt(reason: Interrupt): void;
}

let active: ActiveTry | null = null;
let installed = false;
let dirty = false;
const realExit = process.exit.bind(process);

/** The process's state may be corrupted (a stray rejection, a task still running): retire it. */
export function isProcessDirty(): boolean {
  return dirty;
}

export function markProcessDirty(): void {
  dirty = true;
}

/** Routes process-level failures to `handler` while a try runs; returns the function that ends that. */
export function enterTry(handler: ActiveTry): () => void {
  active = handler;
  return () => {
    if (active === handler) active = null;
  };
}

/** The real `process.exit`, for the runner itself. */
export function exitProcess(code: number): never {
  return realExit(code);
}

/**
 * Installs the guards once per process. `onIdleProblem` hears about failures that happen with no
 * try running (the process is then dirty); `onSignal` about SIGTERM/SIGINT with no try running.
 */
export function installProcessGuards(hooks: {
  onIdleProblem(what: string, error: unknown): void;
  onSignal(signal: string): void;
}): void {
  if (installed) return;
  installed = true;
  process.exit = ((code?: number | string | null) => {
    const n = typeof code === "number" ? code : Number(code ?? process.exitCode ?? 0) || 0;
    if (active === null) return realExit(n);
    dirty = true;
    active.interrupt({ kind: "exit", code: n });
    throw new ProcessExitCalled(n);
  }) as typeof process.exit;
  const problem = (what: string) => (error: unknown) => {
    dirty = true;
    if (error instanceof ProcessExitCalled) return; // already handled as an interrupt
    if (active !== null) active.interrupt({ kind: "uncaught", error });
    else hooks.onIdleProblem(what, error);
  };
  process.on("uncaughtException", problem("uncaught exception"));
  process.on("unhandledRejection", problem("unhandled rejection"));
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    process.on(signal, () => {
      if (active !== null) active.interrupt({ kind: "terminated", signal });
      else hooks.onSignal(signal);
    });
  }
}
