// The executors Updraft has, by the names `core.executor` and a task's `executor` option take
// (Airflow's). In the model so that the serializer (at parse), the scheduler and the executors'
// configuration share one list.

export const EXECUTOR_NAMES = ["LocalExecutor", "KubernetesExecutor", "QueueExecutor"] as const;
export type ExecutorName = (typeof EXECUTOR_NAMES)[number];

/** The known name `name` spells in any case (`kubernetesexecutor` → `KubernetesExecutor`), or undefined. */
export function knownExecutorName(name: string): ExecutorName | undefined {
  const n = name.trim().toLowerCase();
  return EXECUTOR_NAMES.find((k) => k.toLowerCase() === n);
}

/**
 * The executor a task instance goes to: its task's `executor` option (stored on the row), or the
 * default (the first of `core.executor`) when it names none.
 */
export function resolveExecutorName(tiExecutor: string | null, configured: readonly string[]): string {
  return tiExecutor ?? configured[0] ?? "LocalExecutor";
}

/**
 * Why a parsed DAG cannot run here: one message per task naming an executor that `configured`
 * (core.executor) does not list (Airflow: "executor not configured"). Empty when all can run.
 */
export function unconfiguredExecutorProblems(
  dag: { dag_id: string; tasks: readonly { task_id: string; executor?: string | null | undefined }[] },
  configured: readonly string[],
): { taskId: string; message: string }[] {
  const out: { taskId: string; message: string }[] = [];
  for (const t of dag.tasks) {
    const e = t.executor ?? null;
    if (e === null || configured.includes(e)) continue;
    out.push({
      taskId: t.task_id,
      message: `Task "${t.task_id}" of DAG "${dag.dag_id}" names the executor "${e}", which is not configured: core.executor lists ${configured.join(", ")}. Add ${e} to core.executor (UPDRAFT__CORE__EXECUTOR), or remove the task's executor option.`,
    });
  }
  return out;
}
