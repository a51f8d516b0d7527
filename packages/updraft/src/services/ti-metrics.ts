// Airflow's task-instance metrics, emitted where a try starts and ends (the finish report, the
// reaper). Shared so both name them the same: airflow/models/taskinstance.py emits ti_failures /
// ti_successes, ti.finish.<dag>.<task>.<state>, task.duration and task.queued_duration.
import type { Metrics } from "../metrics/index.js";

export interface TiEndMetric {
  dag_id: string;
  task_id: string;
  /** The state the try ended in (up_for_retry counts as a failure, as in Airflow). */
  state: string;
  /** Seconds the try ran, when known. */
  durationS?: number | null;
  /** Seconds between queued and started, when known. */
  queuedS?: number | null;
}

export function emitTiEnd(metrics: Metrics | undefined, e: TiEndMetric): void {
  if (metrics === undefined || !metrics.enabled) return;
  const tags = { dag_id: e.dag_id, task_id: e.task_id };
  if (e.state === "success") metrics.incr("ti_successes", 1, tags);
  else if (e.state === "failed" || e.state === "up_for_retry") metrics.incr("ti_failures", 1, tags);
  metrics.incr("ti.finish", 1, { ...tags, state: e.state });
  if (typeof e.durationS === "number" && Number.isFinite(e.durationS))
    metrics.timing("task.duration", e.durationS * 1000, tags);
  if (typeof e.queuedS === "number" && Number.isFinite(e.queuedS) && e.queuedS >= 0)
    metrics.timing("task.queued_duration", e.queuedS * 1000, tags);
}

export function emitTiStart(metrics: Metrics | undefined, dagId: string, taskId: string): void {
  if (metrics === undefined || !metrics.enabled) return;
  metrics.incr("ti.start", 1, { dag_id: dagId, task_id: taskId });
}
