// How many warm runner processes the LocalExecutor aims for. Sized to the work, not to
// `parallelism`: a fork costs ~100 ms of CPU (on two cores, the time of dozens of no-op tasks), and
// more processes than cores do not run CPU-bound tasks faster. The target starts at twice the cores
// it may use (common/cpu-cores.ts: a container's CPU limit counts; runners of short tasks wait for
// the API server half the time); it rises to `parallelism` for tasks that mostly wait (sleeps,
// I/O), doubles when work has waited with no process freeing up while long tries hold them all,
// and falls back when processes sit idle.

/** A task body shorter than this says nothing about waiting: its time is the engine's round trips. */
const MEANINGFUL_EXEC_MS = 20;

/**
 * Work waits and no process freed up: the pool grows only if every process has held its try this
 * long. Long tries hold them, and more processes help; a shorter hold is the engine's own delay
 * (a busy API server, a stalled embedded database), which more processes only add to — on PGlite
 * under a 10,000-task load the pool grew from 4 to 35 processes on 2 cores that way.
 */
export const LONG_HOLD_MS = 1000;

export interface PoolSizingOptions {
  parallelism: number;
  /** Idle processes kept ready. */
  minWarm: number;
  /** The target to start from and to fall back to (twice the cores by default). */
  eager: number;
}

export class PoolSizing {
  private targetProcesses: number;
  private eager: number;
  /** Exponential averages of recent task bodies' wall and CPU time. */
  private avgExecMs = 0;
  private avgExecCpuMs = 0;

  constructor(private readonly o: PoolSizingOptions) {
    this.eager = this.clamp(o.eager);
    this.targetProcesses = this.eager;
  }

  private clamp(eager: number): number {
    return Math.min(this.o.parallelism, Math.max(this.o.minWarm, 1, Math.floor(eager)));
  }

  /**
   * A new eager size (a worker that learns how many workers share its machine): the target follows
   * at once unless the pool has grown for the work; a grown target falls back to it when idle.
   */
  setEager(eager: number): void {
    const grown = this.targetProcesses !== this.eager;
    this.eager = this.clamp(eager);
    if (!grown) this.targetProcesses = this.eager;
  }

  /** Processes to keep (warm or busy). */
  get target(): number {
    return this.targetProcesses;
  }

  /** Recent task bodies mostly wait: as many processes as parallelism allows help. */
  get tasksWait(): boolean {
    return this.avgExecMs >= MEANINGFUL_EXEC_MS && this.avgExecCpuMs < 0.5 * this.avgExecMs;
  }

  /** A task body ran for `execMs` of which `execCpuMs` on the CPU. */
  observe(execMs: number, execCpuMs: number): void {
    if (!Number.isFinite(execMs) || !Number.isFinite(execCpuMs)) return;
    const first = this.avgExecMs === 0 && this.avgExecCpuMs === 0;
    this.avgExecMs = first ? execMs : 0.8 * this.avgExecMs + 0.2 * execMs;
    this.avgExecCpuMs = first ? execCpuMs : 0.8 * this.avgExecCpuMs + 0.2 * execCpuMs;
    if (this.tasksWait) this.targetProcesses = this.o.parallelism;
  }

  /**
   * Work waited with no process freeing up, every busy process holding its try for `heldMs` at
   * least: double the target (up to parallelism) if that is LONG_HOLD_MS. Returns whether it grew.
   */
  grow(heldMs: number): boolean {
    if (!(heldMs >= LONG_HOLD_MS)) return false;
    this.targetProcesses = Math.min(
      this.o.parallelism,
      Math.max(this.targetProcesses * 2, this.targetProcesses + 1),
    );
    return true;
  }

  /** Processes sat idle: back to the eager size, unless tasks wait. */
  shrink(): void {
    if (!this.tasksWait) this.targetProcesses = this.eager;
  }
}
