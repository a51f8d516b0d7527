// One runner child process as the LocalExecutor sees it: forked from `dist/runner/main.js`, talking
// over IPC, its stdout/stderr drained (what a task leaks outside its try lands here) with the tail
// of stderr kept to explain a death (V8 prints "heap out of memory" before aborting).
import { fork, type ChildProcess } from "node:child_process";
import type { Workload } from "../../model/execution-api.js";
import type { FromRunner, ToRunner } from "../../model/runner-ipc.js";
import type { ExecutorLogger } from "../executor.js";
import { oomKillCount } from "./oom-kills.js";

/** The runner's IPC messages (shared shapes in model/runner-ipc.ts). */
export type RunnerMessage = FromRunner;

export type ProcessState = "starting" | "idle" | "busy" | "retiring" | "exited";

const TAIL_CHARS = 8192;

export interface RunnerProcessOptions {
  script: string;
  execArgv: string[];
  env: NodeJS.ProcessEnv;
  maxTasks: number;
  logger: ExecutorLogger;
  onReady(p: RunnerProcess): void;
  onDone(p: RunnerProcess, message: Extract<RunnerMessage, { type: "done" }>): void;
  onClose(p: RunnerProcess, code: number | null, signal: NodeJS.Signals | null): void;
}

export class RunnerProcess {
  readonly child: ChildProcess;
  readonly oneShot: boolean;
  state: ProcessState = "starting";
  /** The workload being run, or waiting for `ready` (one-shot processes). */
  current: Workload | null = null;
  /** Why the executor killed it, when it did (timeout, stop). */
  killedBecause: string | null = null;
  stderrTail = "";
  tasksRun = 0;
  watchdog: NodeJS.Timeout | undefined;
  /** When it took its current try (Date.now()): how long the try holds it (see PoolSizing.grow). */
  busySince = 0;
  /** When it last became idle (Date.now()), for retiring processes the work no longer needs. */
  idleSince = Date.now();
  /** The kernel's OOM-kill count when the process started (see oom-kills.ts). */
  private readonly oomKillsAtStart = oomKillCount();

  constructor(o: RunnerProcessOptions, oneShot: boolean) {
    this.oneShot = oneShot;
    this.child = fork(o.script, ["--max-tasks", String(oneShot ? 1 : o.maxTasks)], {
      execArgv: o.execArgv,
      env: o.env,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
      serialization: "json",
    });
    const pid = this.child.pid;
    this.child.stdout?.setEncoding("utf8").on("data", (text: string) => {
      o.logger.debug({ pid, output: text.trimEnd() }, "runner stdout");
    });
    this.child.stderr?.setEncoding("utf8").on("data", (text: string) => {
      this.stderrTail = (this.stderrTail + text).slice(-TAIL_CHARS);
      o.logger.warn({ pid, output: text.trimEnd() }, "runner stderr");
    });
    this.child.on("message", (m: RunnerMessage) => {
      if (m.type === "ready") {
        if (this.state === "starting") this.state = "idle";
        this.idleSince = Date.now();
        o.onReady(this);
      } else if (m.type === "done") {
        this.tasksRun++;
        this.idleSince = Date.now();
        o.onDone(this, m);
      }
    });
    this.child.on("error", (err: NodeJS.ErrnoException) => {
      // A message sent while the child exits (its last try done, or killed) fails with EPIPE; the
      // 'close' below accounts for whatever it was running, so this is no error of its own.
      if (err.code === "EPIPE" || err.code === "ERR_IPC_CHANNEL_CLOSED") {
        o.logger.debug({ pid, err: err.message }, "runner process exited while a message was sent");
      } else {
        o.logger.error({ pid, err: err.message }, "runner process error");
      }
    });
    // 'close' (not 'exit'): by then every IPC message the child sent has been delivered.
    this.child.on("close", (code, signal) => {
      this.state = "exited";
      clearTimeout(this.watchdog);
      o.onClose(this, code, signal);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  run(w: Workload): void {
    this.current = w;
    this.state = "busy";
    this.busySince = Date.now();
    this.send({ type: "run", workload: w });
  }

  /** Whether the process may take its next try from the server with a finish. */
  allowHandOver(allowed: boolean): void {
    this.send({ type: "hand_over", allowed });
  }

  private send(message: ToRunner): void {
    if (this.state !== "exited" && this.child.connected) this.child.send(message);
  }

  kill(signal: NodeJS.Signals, because?: string): void {
    if (because !== undefined && this.killedBecause === null) this.killedBecause = because;
    if (this.state !== "exited") this.child.kill(signal);
  }

  /** Why it died, for the `lost` event and the try's log. */
  describeDeath(code: number | null, signal: NodeJS.Signals | null, memoryCapMb: number): string {
    const how = signal !== null ? `killed by ${signal}` : `exited with code ${code ?? "?"}`;
    if (/heap out of memory|Reached heap limit|Allocation failed/i.test(this.stderrTail)) {
      return `out of memory: the runner process exceeded its ${memoryCapMb} MB heap cap (--max-old-space-size) and was ${how}`;
    }
    if (this.killedBecause !== null) return `${this.killedBecause} (${how})`;
    if (signal === "SIGKILL") {
      // Said only when the kernel's count of OOM kills rose while the process lived.
      const now = oomKillCount();
      const byOom = now !== null && this.oomKillsAtStart !== null && now > this.oomKillsAtStart;
      return byOom
        ? `out of memory: the runner process was ${how} by the system's out-of-memory killer (the kernel's OOM-kill count rose while it ran); give the task less data or the machine more memory`
        : `the runner process was ${how} (by another process or an operator: the system's out-of-memory killer killed nothing meanwhile)`;
    }
    const last = this.stderrTail.trim().split("\n").slice(-3).join(" | ");
    return `the runner process ${how}${last !== "" ? `; last output: ${last}` : ""}`;
  }
}
