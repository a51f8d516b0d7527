// A branch's or short-circuit's skips in a finish (services/finish-task-instance.ts): which
// downstream tasks its report may skip, and the statement's CTE that skips them.
import { sql, type RawBuilder } from "kysely";
import { UpdraftError } from "../common/errors.js";
import type { DagPlan } from "../model/dag-plan.js";
import type { FinishRequest, TokenClaims } from "../model/execution-api.js";
import { UNFINISHED_TI_STATES } from "../model/states.js";

const SKIPPABLE = JSON.stringify(UNFINISHED_TI_STATES.filter((s) => s !== null));

/**
 * The downstream tasks a branch or short-circuit skips. A follow_task_ids or skip_downstream from
 * any other task, or naming tasks the DAG does not have, is refused; only the task's direct
 * downstream tasks (or, for a short-circuit, what lies downstream of it) can be skipped: a task's
 * token must not be able to skip work it does not decide.
 */
export function branchSkips(plan: DagPlan | undefined, claims: TokenClaims, req: FinishRequest): string[] {
  const follow = req.follow_task_ids ?? null;
  const skipAll = req.skip_downstream === true;
  if (follow === null && !skipAll) return [];
  if (follow !== null && skipAll) {
    throw new UpdraftError(
      "REQUEST_INVALID",
      "A finish report gives follow_task_ids or skip_downstream, not both.",
    );
  }
  const task = plan?.task(claims.ti.task_id);
  const kind = follow !== null ? "branch" : "short_circuit";
  if (task?.branch_kind !== kind) {
    throw new UpdraftError(
      "FORBIDDEN",
      kind === "branch"
        ? `Task "${claims.ti.task_id}" is not a branch task: it may not name the tasks to follow (follow_task_ids).`
        : `Task "${claims.ti.task_id}" is not a short-circuit task: it may not skip its downstream tasks (skip_downstream).`,
    );
  }
  if (req.state !== "success" || plan === undefined) return [];
  if (skipAll) {
    // airflow/operators/python.py ShortCircuitOperator.execute: every task downstream, or with
    // ignore_downstream_trigger_rules false the direct downstream only; never a teardown.
    const ids = task.ignore_downstream_trigger_rules
      ? plan.allDownstream(task.task_id)
      : task.downstream_task_ids;
    return ids.filter((id) => plan.task(id)?.is_teardown !== true);
  }
  // airflow/models/skipmixin.py SkipMixin.skip_all_except: any task of the DAG may be followed
  // (the runner turned group ids into their root tasks); an id the DAG does not have is an error.
  const unknown = (follow ?? []).filter((id) => !plan.tasks.has(id));
  if (unknown.length > 0) {
    throw new UpdraftError(
      "REQUEST_INVALID",
      `follow_task_ids names ${unknown.map((id) => `"${id}"`).join(", ")}, which ${unknown.length > 1 ? "are not tasks" : "is not a task"} of DAG "${claims.ti.dag_id}".`,
    );
  }
  // As skip_all_except: the direct downstream tasks not followed are skipped, except those
  // downstream of a followed task (the "join" after an empty branch).
  const keep = new Set<string>();
  for (const id of follow ?? []) {
    keep.add(id);
    for (const d of plan.allDownstream(id)) keep.add(d);
  }
  return task.downstream_task_ids.filter((id) => !keep.has(id));
}

/** The CTE `skipped` skipping a branch's or short-circuit's downstream task instances. */
export function skipCte(taskIds: readonly string[]): RawBuilder<unknown> {
  return sql`skipped as (
      update task_instance set state = 'skipped', start_date = coalesce(start_date, now()), end_date = now(),
        duration = 0, next_retry_at = null, updated_at = now()
      where dag_id = (select dag_id from ended) and run_id = (select run_id from ended)
        and (select state from ended) = 'success'
        and task_id in (select jsonb_array_elements_text(${JSON.stringify(taskIds)}::jsonb))
        and (state is null or state in (select jsonb_array_elements_text(${SKIPPABLE}::jsonb)))
      returning task_id, map_index
    )`;
}
