// The executors one scheduler runs side by side (core.executor = LocalExecutor,KubernetesExecutor):
// the first is the default for task instances that name none (decision 0027). The scheduler keeps
// slots per executor; this set only names them, starts and stops them, and merges their events.
import { UpdraftError } from "../common/errors.js";
import { resolveExecutorName } from "../model/executor-names.js";
import type { Executor, ExecutorListener, StopOptions, StopResult } from "./executor.js";

export class ExecutorSet {
  private readonly byName: ReadonlyMap<string, Executor>;
  readonly takesAll: boolean;

  /**
   * `executors` in core.executor's order; names must differ (each executor's `name`). With
   * `takesAll`, the default runs every task instance whatever executor it names (`updraft dags
   * test` runs a whole DAG in this process's runners).
   */
  constructor(
    readonly executors: readonly Executor[],
    options: { takesAll?: boolean } = {},
  ) {
    this.takesAll = options.takesAll === true;
    if (executors.length === 0)
      throw new UpdraftError("UNKNOWN_EXECUTOR", "A scheduler needs at least one executor (core.executor).");
    const m = new Map<string, Executor>();
    for (const e of executors) {
      if (m.has(e.name))
        throw new UpdraftError("UNKNOWN_EXECUTOR", `The executor ${e.name} is given twice: keep one.`);
      m.set(e.name, e);
    }
    this.byName = m;
  }

  /** The default executor: the first of core.executor. */
  get default(): Executor {
    return this.executors[0]!;
  }

  /** The executors' names, the default first. */
  get names(): string[] {
    return this.executors.map((e) => e.name);
  }

  get size(): number {
    return this.executors.length;
  }

  get(name: string): Executor | undefined {
    return this.byName.get(name);
  }

  /**
   * The executor of a task instance by its `executor` column (null: the default), or undefined
   * when this scheduler does not run the executor it names (core.executor changed after parse).
   */
  resolve(tiExecutor: string | null): Executor | undefined {
    if (this.takesAll) return this.default;
    return this.byName.get(resolveExecutorName(tiExecutor, this.names));
  }

  /** Subscribes to every executor's events; returns the function that unsubscribes from all. */
  onEvent(listener: ExecutorListener): () => void {
    const offs = this.executors.map((e) => e.onEvent(listener));
    return () => offs.forEach((off) => off());
  }

  /** Starts them all (in order); one that fails stops those already started. */
  async start(): Promise<void> {
    const started: Executor[] = [];
    try {
      for (const e of this.executors) {
        await e.start();
        started.push(e);
      }
    } catch (err) {
      await Promise.allSettled(started.map((e) => e.stop({ graceful: false })));
      throw err;
    }
  }

  /** Stops them all at once; the workloads none started, together. */
  async stop(options?: StopOptions): Promise<StopResult> {
    const results = await Promise.allSettled(this.executors.map((e) => e.stop(options)));
    const notStarted = results.flatMap((r) => (r.status === "fulfilled" ? r.value.notStarted : []));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed !== undefined && notStarted.length === 0) throw failed.reason;
    return { notStarted };
  }
}
