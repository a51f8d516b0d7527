// Turns queued task instances and due callbacks into workloads for the executor, each with a
// token signed for exactly that try (decision 0006).
import { join } from "node:path";
import { signToken } from "../common/signed-token.js";
import {
  taskLogRelativePath,
  type CallbackWorkload,
  type TaskInstanceKey,
  type TaskWorkload,
  type TokenClaims,
} from "../model/execution-api.js";
import type { SchedulerContext } from "./context.js";
import type { DagPlan } from "./dag-plan.js";

const DAY_S = 24 * 3600;
const HOUR_S = 3600;

function expiry(ctx: SchedulerContext, executionTimeoutMs: number | null): number {
  const lifetime = Math.max(DAY_S, (executionTimeoutMs ?? 0) / 1000 + HOUR_S);
  return Math.floor(ctx.clock.now() / 1000 + lifetime);
}

export function taskWorkload(
  ctx: SchedulerContext,
  plan: DagPlan | undefined,
  ti: TaskInstanceKey,
  tryNumber: number,
  extra: { priorityWeight: number; queue: string },
): TaskWorkload {
  const task = plan?.tasks.get(ti.task_id)?.task;
  const timeout = task?.execution_timeout_ms ?? null;
  const claims: TokenClaims = { ti, try_number: tryNumber, exp: expiry(ctx, timeout), scope: "task" };
  return {
    kind: "task",
    ti,
    try_number: tryNumber,
    fileloc: plan?.dag.fileloc ?? "",
    token: signToken(claims, ctx.secretKey),
    api_url: ctx.apiUrl,
    log_path: join(ctx.config.logging.base_log_folder, taskLogRelativePath(ti, tryNumber)),
    fresh_process: task?.fresh_process ?? false,
    queue: extra.queue,
    priority_weight: extra.priorityWeight,
    execution_timeout_ms: timeout,
  };
}

export type CallbackKind = CallbackWorkload["callback"];

/**
 * A callback to run in a runner. Task callbacks log into the try's log; DAG-level ones into
 * `dag_id=…/run_id=…/callback=<kind>.log` beside the run's task folders.
 */
export function callbackWorkload(
  ctx: SchedulerContext,
  plan: DagPlan | undefined,
  callback: CallbackKind,
  ti: TaskInstanceKey,
  tryNumber: number,
  extra: { taskIds?: string[]; error?: string | null } = {},
): CallbackWorkload {
  const tryN = Math.max(1, tryNumber);
  const claims: TokenClaims = { ti, try_number: tryN, exp: expiry(ctx, null), scope: "callback" };
  const taskLevel = callback === "on_failure" || callback === "on_retry" || callback === "on_success";
  const relative = taskLevel
    ? taskLogRelativePath(ti, tryN)
    : taskLogRelativePath({ ...ti, task_id: "x", map_index: -1 }, 1).replace(
        /task_id=x\/attempt=1\.log$/,
        `callback=${callback}.log`,
      );
  return {
    kind: "callback",
    callback,
    ti,
    try_number: tryN,
    fileloc: plan?.dag.fileloc ?? "",
    token: signToken(claims, ctx.secretKey),
    api_url: ctx.apiUrl,
    log_path: join(ctx.config.logging.base_log_folder, relative),
    ...(extra.taskIds === undefined ? {} : { task_ids: extra.taskIds }),
    ...(extra.error === undefined ? {} : { error: extra.error }),
  };
}
