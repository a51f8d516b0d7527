// What a run's end sets off in the scheduler, whether an evaluation or the dagrun timeout ended
// it: the DAG's success or failure callback (a workload for the default executor, since the
// scheduler never runs user code, decision 0008) and the run's root span.
import type { Workload } from "../model/execution-api.js";
import { callbackWorkload, type WorkloadSigner } from "../services/index.js";
import type { SchedulerContext } from "./context.js";
import type { FinishedRun } from "./schedule-runs.js";

/** The on_success / on_failure callbacks of the DAGs whose runs ended, as workloads. */
export function dagCallbacks(signer: WorkloadSigner, finished: readonly FinishedRun[]): Workload[] {
  const out: Workload[] = [];
  for (const f of finished) {
    const dag = f.plan?.dag;
    const wanted = f.state === "success" ? dag?.has_on_success_callback : dag?.has_on_failure_callback;
    if (wanted !== true) continue;
    const ti = f.lastTi ?? { task_id: dag?.tasks[0]?.task_id ?? "", map_index: -1, try_number: 1 };
    out.push(
      callbackWorkload(
        signer,
        f.plan,
        f.state === "success" ? "dag_success" : "dag_failure",
        { dag_id: f.dagId, run_id: f.runId, task_id: ti.task_id, map_index: ti.map_index },
        ti.try_number,
        f.state === "failed" ? { error: "The DAG run failed." } : {},
      ),
    );
  }
  return out;
}

/** Each ended run's root span (its start from the duration the ending statement returned). */
export function traceRunEnds(ctx: SchedulerContext, finished: readonly FinishedRun[]): void {
  if (!ctx.traces.enabled) return;
  const end = new Date();
  for (const f of finished)
    ctx.traces.runEnded({
      dag_id: f.dagId,
      run_id: f.runId,
      state: f.state,
      start: f.durationMs === null ? null : new Date(end.getTime() - f.durationMs),
      end,
    });
}
