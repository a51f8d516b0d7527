// A pool of evaluation child processes. The parent never imports user code: each compiled DAG
// file is imported by a child, under a time limit and a memory cap. A child that overruns is
// killed, a child that dies is replaced, and every child is replaced after a number of files
// because ESM modules are never unloaded.
import { fork, type ChildProcess } from "node:child_process";
import type { SerializedDag } from "../model/serialized-dag.js";
import type { FileProblem } from "./collect.js";
import type { ChildMessage, EvaluateRequest } from "./messages.js";
import { EVALUATE_CHILD_SCRIPT } from "../loader/paths.js";

/** A pino-compatible logger; the processor logs at debug level only. */
export interface ProcessorLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
}

export interface EvaluationJob {
  fileloc: string;
  compiledPath: string;
  key: string;
}

/** Why an evaluation failed: the file threw, overran the time limit, the memory cap, or its child died. */
export type EvaluationFailure = "exception" | "timeout" | "memory" | "crash" | "closed";

export type EvaluationOutcome =
  | { ok: true; dags: SerializedDag[]; problems: FileProblem[]; durationMs: number }
  | { ok: false; error: string; line?: number; reason: EvaluationFailure; durationMs: number };

export interface EvaluationPoolOptions {
  /** Number of child processes (config `dag_processor.parsing_processes`). */
  size: number;
  /** Per-file time limit in ms (config `core.dag_file_processor_timeout`, in seconds). */
  timeoutMs: number;
  /** `--max-old-space-size` of each child, in MB. */
  memoryCapMb: number;
  /** A child is replaced after this many files. */
  maxFilesPerChild: number;
  logger?: ProcessorLogger | undefined;
}

interface Pending {
  id: number;
  job: EvaluationJob;
  resolve: (outcome: EvaluationOutcome) => void;
  started: number;
  timer?: NodeJS.Timeout;
}

interface Worker {
  child: ChildProcess;
  ready: boolean;
  exited: boolean;
  pending: Pending | undefined;
  files: number;
  stderrTail: string;
  stderrEnded: Promise<void>;
}

const TAIL_BYTES = 8192;

function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return Number.isInteger(s) ? `${s}` : s.toFixed(1);
}

export class EvaluationPool {
  private readonly options: EvaluationPoolOptions;
  private readonly queue: Pending[] = [];
  private readonly workers = new Set<Worker>();
  private nextId = 1;
  private closed = false;
  private startFailures = 0;
  /** Children started so far, for tests and diagnostics. */
  spawned = 0;

  constructor(options: EvaluationPoolOptions) {
    this.options = { ...options, size: Math.max(1, Math.floor(options.size)) };
  }

  /** Starts children ahead of the first file, so that a parse does not wait for them. */
  warm(count = this.options.size): void {
    while (!this.closed && this.workers.size < Math.min(count, this.options.size)) this.spawn();
  }

  /** Evaluates one compiled file in a child. Never rejects: every failure is an outcome. */
  evaluate(job: EvaluationJob): Promise<EvaluationOutcome> {
    if (this.closed) return Promise.resolve(this.closedOutcome());
    return new Promise((resolve) => {
      this.queue.push({ id: this.nextId++, job, resolve, started: 0 });
      this.pump();
    });
  }

  /** Stops every child. Queued files resolve as failures with reason "closed". */
  async close(): Promise<void> {
    this.closed = true;
    for (const p of this.queue.splice(0)) p.resolve(this.closedOutcome());
    const exits = [...this.workers].map((w) => this.stop(w));
    await Promise.all(exits);
  }

  private closedOutcome(): EvaluationOutcome {
    return {
      ok: false,
      error: "The DAG processor was closed before the file was evaluated.",
      reason: "closed",
      durationMs: 0,
    };
  }

  private pump(): void {
    if (this.closed) return;
    for (const w of this.workers) {
      if (this.queue.length === 0) return;
      if (w.ready && !w.exited && w.pending === undefined) this.assign(w, this.queue.shift()!);
    }
    const starting = [...this.workers].filter((w) => !w.ready && !w.exited).length;
    let needed = this.queue.length - starting;
    while (needed > 0 && this.workers.size < this.options.size) {
      this.spawn();
      needed--;
    }
  }

  private spawn(): Worker {
    const child = fork(EVALUATE_CHILD_SCRIPT, [], {
      execArgv: ["--enable-source-maps", `--max-old-space-size=${this.options.memoryCapMb}`],
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
    });
    this.spawned++;
    let endStderr!: () => void;
    const worker: Worker = {
      child,
      ready: false,
      exited: false,
      pending: undefined,
      files: 0,
      stderrTail: "",
      stderrEnded: new Promise((r) => (endStderr = r)),
    };
    this.workers.add(worker);
    const log = this.options.logger;
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      log?.debug(
        { pid: child.pid, fileloc: worker.pending?.job.fileloc, output: chunk },
        "DAG file wrote to stdout",
      );
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      worker.stderrTail = (worker.stderrTail + chunk).slice(-TAIL_BYTES);
      log?.debug(
        { pid: child.pid, fileloc: worker.pending?.job.fileloc, output: chunk },
        "DAG file wrote to stderr",
      );
    });
    child.stderr?.on("end", () => endStderr());
    child.stderr?.on("error", () => endStderr());
    if (child.stderr === null) endStderr();
    child.on("message", (msg: ChildMessage) => this.onMessage(worker, msg));
    child.on("error", (err) => log?.debug({ pid: child.pid, err: String(err) }, "evaluation child error"));
    child.on("exit", (code, signal) => void this.onExit(worker, code, signal));
    return worker;
  }

  private assign(worker: Worker, pending: Pending): void {
    worker.pending = pending;
    pending.started = performance.now();
    pending.timer = setTimeout(() => this.onTimeout(worker, pending), this.options.timeoutMs);
    const request: EvaluateRequest = { type: "evaluate", id: pending.id, ...pending.job };
    worker.child.send(request, (err) => {
      if (err !== null && err !== undefined)
        this.options.logger?.debug({ err: String(err) }, "could not send to evaluation child");
    });
  }

  private settle(worker: Worker, outcome: EvaluationOutcome): void {
    const pending = worker.pending;
    if (pending === undefined) return;
    worker.pending = undefined;
    clearTimeout(pending.timer);
    pending.resolve(outcome);
  }

  private onMessage(worker: Worker, msg: ChildMessage): void {
    if (msg.type === "ready") {
      worker.ready = true;
      this.pump();
      return;
    }
    if (worker.pending?.id !== msg.id) return;
    const outcome: EvaluationOutcome = msg.ok
      ? { ok: true, dags: msg.dags, problems: msg.problems, durationMs: msg.durationMs }
      : msg.line === undefined
        ? { ok: false, error: msg.error, reason: "exception", durationMs: msg.durationMs }
        : { ok: false, error: msg.error, line: msg.line, reason: "exception", durationMs: msg.durationMs };
    this.settle(worker, outcome);
    worker.files++;
    if (worker.files >= this.options.maxFilesPerChild) void this.stop(worker);
    this.pump();
  }

  private onTimeout(worker: Worker, pending: Pending): void {
    if (worker.pending !== pending) return;
    const seconds = formatSeconds(this.options.timeoutMs);
    this.settle(worker, {
      ok: false,
      error: `DAG file took longer than ${seconds}s to evaluate and was stopped (core.dag_file_processor_timeout)`,
      reason: "timeout",
      durationMs: performance.now() - pending.started,
    });
    this.workers.delete(worker);
    worker.child.kill("SIGKILL");
    this.pump();
  }

  private async onExit(worker: Worker, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    worker.exited = true;
    this.workers.delete(worker);
    if (!worker.ready && !this.closed) {
      await Promise.race([worker.stderrEnded, new Promise((r) => setTimeout(r, 250))]);
      this.onStartFailure(worker.stderrTail, code, signal);
      return;
    }
    this.startFailures = 0;
    const pending = worker.pending;
    if (pending !== undefined) {
      // The reason (e.g. V8's out-of-memory report) is on stderr, which may still be draining.
      await Promise.race([worker.stderrEnded, new Promise((r) => setTimeout(r, 250))]);
      if (worker.pending === pending) {
        this.settle(worker, {
          ok: false,
          ...this.deathReason(worker.stderrTail, code, signal),
          durationMs: performance.now() - pending.started,
        });
      }
    }
    this.pump();
  }

  /** A child that dies before it is ready is broken (not the file's fault): stop retrying after a few. */
  private onStartFailure(stderr: string, code: number | null, signal: NodeJS.Signals | null): void {
    this.startFailures++;
    if (this.startFailures < 3) {
      this.pump();
      return;
    }
    const detail = stderr
      .split("\n")
      .filter((l) => l.trim() !== "" && !/^\s+at /.test(l))
      .slice(0, 8)
      .join("\n");
    const error = `The DAG evaluation process could not start (exit ${code ?? signal ?? "unknown"}). Is updraft built (npm run build)?\n${detail}`;
    for (const p of this.queue.splice(0)) p.resolve({ ok: false, error, reason: "crash", durationMs: 0 });
    this.startFailures = 0;
  }

  private deathReason(
    stderr: string,
    code: number | null,
    signal: NodeJS.Signals | null,
  ): { error: string; reason: EvaluationFailure } {
    if (/heap out of memory|Reached heap limit|Allocation failed/i.test(stderr)) {
      return {
        error: `DAG file exceeded the memory cap of ${this.options.memoryCapMb} MB while being evaluated and was stopped (the evaluation process ran out of memory)`,
        reason: "memory",
      };
    }
    if (signal !== null) {
      return {
        error: `The process evaluating the DAG file was killed by ${signal} while evaluating it`,
        reason: "crash",
      };
    }
    return {
      error: `The process evaluating the DAG file exited with code ${code ?? "unknown"} while evaluating it (a DAG file must not call process.exit)`,
      reason: "crash",
    };
  }

  private stop(worker: Worker): Promise<void> {
    this.workers.delete(worker);
    if (worker.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => worker.child.kill("SIGKILL"), 2000);
      worker.child.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      if (worker.child.connected) worker.child.disconnect();
      else worker.child.kill("SIGKILL");
    });
  }
}
