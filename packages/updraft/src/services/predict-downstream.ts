// What a finish decides about its downstream tasks before its statement (decision 0011 §7), and
// what it leaves to the scheduler.
import type { DagPlan } from "../model/dag-plan.js";
import { evaluateTasks, type TiChange, type TiSnapshot } from "../model/evaluate-run.js";
import type { FinishInput } from "./finish-input.js";

/** A decision with the downstream task's topological position (the tie-break of claim order). */
export type Decision = TiChange & { pos: number };

/** What this finish decides about the downstream tasks, and what it leaves to the scheduler. */
export interface Prediction {
  decisions: Decision[];
  /** Downstream tasks that wait on other tasks too: the scheduler decides them (a scoped evaluation). */
  pending: string[];
  /** The scheduler must evaluate the whole run (a cascade, a retry, the run may be over). */
  runCheck: boolean;
}

/**
 * The downstream tasks this try's success makes ready, when each waits on this task alone (not
 * mapped, no setups elsewhere): no other end can race with it, and the model decides from this
 * try's success. Anything else downstream — a join, a cascade of a failure or a skip — is left
 * to the scheduler (`runCheck`).
 */
export function predictDownstream(input: FinishInput): Prediction {
  const { plan, claims, req, skips } = input;
  const { ti } = claims;
  const task = plan?.task(ti.task_id);
  if (plan === undefined || task === undefined) return { decisions: [], pending: [], runCheck: true };
  const skipped = new Set(skips);
  const downstream = task.downstream_task_ids.filter((id) => !skipped.has(id));
  // A skip cascades; a failure's downstream depends on whether the try is retried. An end that a
  // depends_on_past instance of a later run may wait on is told to the scheduler too, which then
  // evaluates the DAG's other runs (plan.pastWatched is empty for DAGs without depends_on_past).
  const runCheck =
    skips.length > 0 ||
    (req.state !== "success" && downstream.length > 0) ||
    // fail_stop: a failure stops the rest of the run (the scheduler's whole-run evaluation).
    (req.state === "failed" && plan.dag.fail_stop) ||
    plan.pastWatched.has(ti.task_id);
  if (downstream.length === 0 || req.state !== "success") return { decisions: [], pending: [], runCheck };
  const alone =
    ti.map_index === -1 && task.expand === null
      ? downstream.filter((id) => {
          const tp = plan.tasks.get(id);
          // A depends_on_past task also waits on the previous run: the scheduler decides it.
          return (
            tp !== undefined &&
            !tp.mapped &&
            tp.indirectSetups.length === 0 &&
            tp.upstream.length === 1 &&
            !tp.task.depends_on_past
          );
        })
      : [];
  const tis: TiSnapshot[] = [
    { task_id: ti.task_id, map_index: -1, state: "success", retry_due: false },
    ...alone.map((id) => ({ task_id: id, map_index: -1, state: null, retry_due: false })),
  ];
  const ev = evaluateTasks(plan, tis, alone);
  const ready = ev.incomplete ? [] : ev.changes.filter((c) => c.to === "scheduled");
  const decided = new Set(ready.map((c) => c.task_id));
  return {
    decisions: withPositions(plan, ready),
    pending: downstream.filter((id) => !decided.has(id)),
    runCheck,
  };
}

function withPositions(plan: DagPlan, changes: readonly TiChange[]): Decision[] {
  return changes.map((c) => ({ ...c, pos: plan.position.get(c.task_id) ?? 0 }));
}
