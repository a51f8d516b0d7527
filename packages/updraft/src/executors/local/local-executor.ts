// Runs workloads in runner child processes on this machine. A pool of warm processes (SDK loaded,
// DAG modules cached, API sockets open) takes tasks one at a time, so a task starts in about a
// millisecond instead of a process spawn; each process retires after N tasks or after a try that
// may have left it dirty. `fresh_process` workloads get a process of their own.
import { cpuCores } from "../../common/cpu-cores.js";
import type { Workload } from "../../model/execution-api.js";
import { RUNNER_LOG_FOLDER_ENV } from "../../model/log-path.js";
import {
  stderrLogger,
  type Executor,
  type ExecutorListener,
  type ExecutorLogger,
  type StopOptions,
  type StopResult,
} from "../executor.js";
import {
  RUNNER_SCRIPT,
  describeWorkload,
  runnerEnv,
  type LocalExecutorOptions,
} from "./local-executor-options.js";
import { PoolSizing } from "./pool-sizing.js";
import { noteRunnerDeath } from "./runner-death-note.js";
import { RunnerProcess, type RunnerMessage } from "./runner-process.js";
import { WorkloadQueue } from "./workload-queue.js";
import { ExecutorListeners } from "../listeners.js";

export class LocalExecutor implements Executor {
  readonly name = "LocalExecutor";
  readonly parallelism: number;
  private readonly minWarm: number;
  private readonly tasksPerProcess: number;
  private readonly memoryCapMb: number;
  private readonly timeoutGraceMs: number;
  private readonly stopTimeoutMs: number;
  private readonly script: string;
  private readonly env: NodeJS.ProcessEnv;
  private readonly logger: ExecutorLogger;
  private readonly listeners: ExecutorListeners;
  private readonly queue = new WorkloadQueue();
  private readonly processes = new Set<RunnerProcess>();
  private started = false;
  private stopping = false;
  private startFailures = 0;
  private readonly idleWaiters = new Set<() => void>();
  private readonly sizing: PoolSizing;
  private readonly growAfterMs: number;
  private readonly idleRetireMs: number;
  private growTimer: NodeJS.Timeout | undefined;
  private idleTimer: NodeJS.Timeout | undefined;
  /** Completions since the grow timer was armed (none: the processes are stuck on long tasks). */
  private doneSinceArmed = 0;
  /** Workloads ready to run that the scheduler could not hand over for lack of open slots. */
  private backlog = 0;
  /** The hand-over permission last sent to the processes. */
  private lastHandOver = true;
  /** Processes forked so far, for tests and diagnostics. */
  spawned = 0;

  constructor(options: LocalExecutorOptions = {}) {
    this.parallelism = Math.max(1, Math.floor(options.parallelism ?? 32));
    this.minWarm = Math.max(0, Math.min(options.minWarm ?? 2, this.parallelism));
    this.tasksPerProcess = Math.max(1, Math.floor(options.tasksPerProcess ?? 1000));
    this.sizing = new PoolSizing({
      parallelism: this.parallelism,
      minWarm: this.minWarm,
      eager: options.eagerProcesses ?? 2 * cpuCores(),
    });
    this.growAfterMs = options.growAfterMs ?? 100;
    this.idleRetireMs = options.idleRetireMs ?? 60_000;
    this.memoryCapMb = options.memoryCapMb ?? 1024;
    this.timeoutGraceMs = options.timeoutGraceMs ?? 15_000;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 60_000;
    this.script = options.runnerScript ?? RUNNER_SCRIPT;
    this.env = runnerEnv(options.env ?? process.env);
    if (options.logFolder !== undefined) this.env[RUNNER_LOG_FOLDER_ENV] = options.logFolder;
    this.logger = options.logger ?? stderrLogger;
    this.listeners = new ExecutorListeners(this.logger);
  }

  /** Starts the warm processes and resolves once they are ready. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    const ready = [];
    for (let i = 0; i < this.minWarm; i++) {
      const p = this.spawn(false);
      ready.push(
        new Promise<void>((resolve) => {
          const check = () => (p.state !== "starting" ? resolve() : setTimeout(check, 5));
          check();
        }),
      );
    }
    await Promise.all(ready);
  }

  queueWorkload(workload: Workload): void {
    if (this.stopping) throw new Error("The LocalExecutor is stopping and takes no more workloads.");
    if (!this.started) void this.start();
    this.queue.push(workload);
    this.pump();
  }

  /** Workloads assigned to a process (running, or waiting for their one-shot process). */
  private assigned(): number {
    let n = 0;
    for (const p of this.processes) if (p.current !== null) n++;
    return n;
  }

  /**
   * What the pool can start soon (its target size, at most parallelism), minus what it holds: the
   * scheduler queues no more than that, so that the rest stays scheduled and goes to runners as
   * they finish (a hand-over costs one request, a queued workload three).
   */
  openSlots(): number {
    return Math.max(0, Math.min(this.parallelism, this.sizing.target) - this.assigned() - this.queue.length);
  }

  /** Changes eagerProcesses (see PoolSizing.setEager); warm processes beyond it retire when idle. */
  setEagerProcesses(n: number): void {
    this.sizing.setEager(n);
    this.pump();
  }

  demand(waiting: number): void {
    this.backlog = Math.max(0, waiting);
    if (this.backlog > 0) this.armGrow();
  }

  onEvent(listener: ExecutorListener): () => void {
    return this.listeners.add(listener);
  }

  private spawn(oneShot: boolean, workload?: Workload): RunnerProcess {
    this.spawned++;
    const p = new RunnerProcess(
      {
        script: this.script,
        execArgv: ["--enable-source-maps", `--max-old-space-size=${this.memoryCapMb}`],
        env: this.env,
        maxTasks: this.tasksPerProcess,
        logger: this.logger,
        onReady: (rp) => {
          this.startFailures = 0;
          if (rp.oneShot && rp.current !== null) this.dispatch(rp, rp.current);
          else {
            rp.allowHandOver(this.handOverAllowed);
            this.pump();
          }
        },
        onDone: (rp, m) => this.onDone(rp, m),
        onClose: (rp, code, signal) => this.onClose(rp, code, signal),
      },
      oneShot,
    );
    if (workload !== undefined) p.current = workload;
    this.processes.add(p);
    this.logger.debug({ pid: p.pid, oneShot }, "runner process started");
    return p;
  }

  private dispatch(p: RunnerProcess, w: Workload): void {
    p.run(w);
    this.watch(p, w);
  }

  /** Kills a process still busy with `w` past its execution timeout and a grace period. */
  private watch(p: RunnerProcess, w: Workload): void {
    if (w.kind === "task" && w.execution_timeout_ms !== null) {
      const limit = w.execution_timeout_ms + this.timeoutGraceMs;
      p.watchdog = setTimeout(() => {
        if (p.current === w) {
          p.kill(
            "SIGKILL",
            `killed: the task was still running ${Math.round(limit / 1000)} s after it started, past its execution timeout (it blocks its event loop)`,
          );
        }
      }, limit);
      p.watchdog.unref();
    }
  }

  /**
   * Whether runners may take their next try from the server with a finish: only while no workload
   * waits here for a process, so that a handed-over try never overtakes one queued before it.
   */
  private get handOverAllowed(): boolean {
    return !this.stopping && this.queue.count((w) => !(w.kind === "task" && w.fresh_process)) === 0;
  }

  private announceHandOver(): void {
    const allowed = this.handOverAllowed;
    if (allowed === this.lastHandOver) return;
    this.lastHandOver = allowed;
    for (const p of this.processes) if (!p.oneShot) p.allowHandOver(allowed);
  }

  /** Hands queued workloads to idle processes and keeps enough processes warm. */
  private pump(): void {
    if (this.stopping) return;
    while (this.queue.length > 0 && this.assigned() < this.parallelism) {
      const head = this.queue.peek() as Workload;
      if (head.kind === "task" && head.fresh_process) {
        this.queue.shift();
        this.spawn(true, head);
        continue;
      }
      let idle: RunnerProcess | undefined;
      for (const p of this.processes) {
        if (p.state === "idle" && !p.oneShot) {
          idle = p;
          break;
        }
      }
      if (idle === undefined) break;
      this.queue.shift();
      this.dispatch(idle, head);
    }
    this.announceHandOver();
    this.keepWarm();
  }

  /** Warm processes (not one-shot, not on their way out), and how many of them are free. */
  private warmCounts(): { live: number; spare: number } {
    let live = 0;
    let spare = 0;
    for (const p of this.processes) {
      if (p.oneShot || p.state === "retiring" || p.state === "exited") continue;
      live++;
      if (p.state === "starting" || p.state === "idle") spare++;
    }
    return { live, spare };
  }

  /** Starts processes for waiting work and minWarm spares, up to the pool's target. */
  private keepWarm(): void {
    if (this.stopping || !this.started || this.startFailures >= 5) return;
    const { live, spare } = this.warmCounts();
    const waiting = this.queue.count((w) => !(w.kind === "task" && w.fresh_process));
    const need = Math.min(this.sizing.target - live, Math.max(this.minWarm, waiting) - spare);
    for (let i = 0; i < need; i++) this.spawn(false);
    if (waiting + this.backlog > spare) this.armGrow();
    this.armIdleCheck();
  }

  private armGrow(): void {
    if (this.growTimer !== undefined || this.stopping) return;
    this.doneSinceArmed = 0;
    this.growTimer = setTimeout(() => this.grow(), this.growAfterMs);
    this.growTimer.unref();
  }

  /** Work has waited growAfterMs: if no process freed up meanwhile, the pool doubles (up to parallelism). */
  private grow(): void {
    this.growTimer = undefined;
    if (this.stopping) return;
    const { spare } = this.warmCounts();
    const waiting = this.queue.count((w) => !(w.kind === "task" && w.fresh_process)) + this.backlog;
    if (waiting <= spare) return;
    // Grow only when every process is busy and none finished meanwhile (long tasks hold them):
    // processes still starting are capacity on its way, not a reason to fork more.
    const warm = [...this.processes].filter((p) => !p.oneShot);
    const starting = warm.some((p) => p.state === "starting");
    const now = Date.now();
    const busy = warm.filter((p) => p.state === "busy");
    const held = busy.length === 0 ? 0 : Math.min(...busy.map((p) => now - p.busySince));
    if (this.doneSinceArmed === 0 && !starting && spare === 0) this.sizing.grow(held);
    this.keepWarm();
    this.armGrow();
  }

  /** Processes idle past idleRetireMs beyond minWarm retire: the pool sizes to the work. */
  private armIdleCheck(): void {
    if (this.idleTimer !== undefined || this.stopping) return;
    this.idleTimer = setTimeout(
      () => {
        this.idleTimer = undefined;
        if (this.stopping) return;
        const now = Date.now();
        const idle = [...this.processes].filter((p) => !p.oneShot && p.state === "idle");
        const stale = idle.filter((p) => now - p.idleSince >= this.idleRetireMs);
        const extra = Math.min(stale.length, idle.length - this.minWarm);
        if (extra > 0) {
          this.sizing.shrink();
          for (const p of stale.slice(0, extra)) {
            p.state = "retiring";
            p.kill("SIGTERM", "retired: idle");
          }
        }
        if (this.processes.size > this.minWarm) this.armIdleCheck();
      },
      Math.max(1000, this.idleRetireMs / 4),
    );
    this.idleTimer.unref();
  }

  private onDone(p: RunnerProcess, m: Extract<RunnerMessage, { type: "done" }>): void {
    clearTimeout(p.watchdog);
    p.current = null;
    p.state = m.retiring ? "retiring" : "idle";
    if (m.next !== null) {
      // The server handed the process its next try with the finish: it holds that one now.
      p.current = m.next;
      p.state = "busy";
      p.busySince = Date.now();
      this.watch(p, m.next);
    }
    this.doneSinceArmed++;
    if (m.exec_ms !== null && m.exec_cpu_ms !== null) this.sizing.observe(m.exec_ms, m.exec_cpu_ms);
    this.listeners.emit({
      type: "finished",
      kind: m.kind,
      ti: m.ti,
      try_number: m.try_number,
      state: m.state,
      runner_ms: m.total_ms,
      next: m.next,
    });
    this.notifyIdle();
    this.pump();
  }

  private onClose(p: RunnerProcess, code: number | null, signal: NodeJS.Signals | null): void {
    this.processes.delete(p);
    const w = p.current;
    p.current = null;
    if (w !== null) {
      const reason = p.describeDeath(code, signal, this.memoryCapMb);
      this.logger.error({ ...describeWorkload(w), pid: p.pid, reason }, "runner process died during a try");
      noteRunnerDeath(w, reason, this.env, this.logger);
      this.listeners.emit({ type: "lost", kind: w.kind, ti: w.ti, try_number: w.try_number, reason });
    } else if (p.tasksRun === 0 && !this.stopping && p.killedBecause === null) {
      this.startFailures++;
      this.logger.error(
        { pid: p.pid, code, signal, stderr: p.stderrTail.slice(-2000) },
        "runner process exited before taking work",
      );
      if (this.startFailures >= 5)
        this.failQueued(
          `runner processes exit at start-up: ${p.stderrTail.trim().split("\n").slice(-3).join(" | ")}`,
        );
    }
    this.notifyIdle();
    this.pump();
  }

  /** Runner processes cannot start at all: report queued work as lost instead of spawning forever. */
  private failQueued(reason: string): void {
    for (const w of this.queue.drain())
      this.listeners.emit({ type: "lost", kind: w.kind, ti: w.ti, try_number: w.try_number, reason });
  }

  private notifyIdle(): void {
    for (const resolve of [...this.idleWaiters]) resolve();
  }

  private async waitUntil(pred: () => boolean, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!pred()) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.idleWaiters.delete(done);
          resolve();
        };
        const timer = setTimeout(done, Math.min(left, 100));
        this.idleWaiters.add(done);
      });
    }
    return true;
  }

  async stop(options: StopOptions = {}): Promise<StopResult> {
    const graceful = options.graceful ?? true;
    const timeoutMs = options.timeoutMs ?? this.stopTimeoutMs;
    this.stopping = true;
    this.announceHandOver();
    clearTimeout(this.growTimer);
    this.growTimer = undefined;
    clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
    const notStarted = this.queue.drain();
    // One-shot processes that never got to start their workload give it back too.
    for (const p of this.processes) {
      if (p.state === "starting" && p.current !== null) {
        notStarted.push(p.current);
        p.current = null;
      }
    }
    for (const p of this.processes) if (p.current === null) p.kill("SIGTERM", "stopped by the executor");
    if (graceful) await this.waitUntil(() => this.assigned() === 0, timeoutMs);
    for (const p of this.processes) p.kill("SIGTERM", "stopped by the executor (SIGTERM)");
    const killGraceMs = Math.min(timeoutMs, 5000);
    if (!(await this.waitUntil(() => this.processes.size === 0, killGraceMs))) {
      for (const p of this.processes) p.kill("SIGKILL", "stopped by the executor (SIGKILL after SIGTERM)");
      await this.waitUntil(() => this.processes.size === 0, 2000);
    }
    return { notStarted };
  }

  /** Counts by state, for tests and health output. */
  stats(): { processes: number; idle: number; busy: number; queued: number; spawned: number } {
    let idle = 0;
    let busy = 0;
    for (const p of this.processes) {
      if (p.state === "idle") idle++;
      if (p.current !== null) busy++;
    }
    return { processes: this.processes.size, idle, busy, queued: this.queue.length, spawned: this.spawned };
  }
}
