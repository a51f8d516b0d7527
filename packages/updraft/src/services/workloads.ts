// Turns tries and due callbacks into workloads for runners, each with a token signed for exactly
// that try (decision 0006). The scheduler makes them for what it queues, the execution API for a
// try it hands straight to the runner that just finished one.
import { join } from "node:path";
import { signToken } from "../common/signed-token.js";
import { taskLogRelativePath } from "../model/log-path.js";
import {
  type CallbackWorkload,
  type TaskInstanceKey,
  type TaskWorkload,
  type TokenClaims,
} from "../model/execution-api.js";
import type { DagPlan } from "../model/dag-plan.js";

/** What signing a workload needs: the key, where runners reach the execution API, the log folder. */
export interface WorkloadSigner {
  readonly secretKey: string;
  readonly apiUrl: string;
  readonly logFolder: string;
  /** Local clock (ms), for token expiry only. */
  now(): number;
  /** Seconds a try may wait between queuing and its start (queued, a Pod Pending); tokens outlast it. */
  readonly maxWaitS?: number;
}

const DAY_S = 24 * 3600;
const HOUR_S = 3600;

function expiry(signer: WorkloadSigner, executionTimeoutMs: number | null): number {
  // A token must outlast the try's wait before it starts (a Pod may stay Pending: the
  // KubernetesExecutor's worker_pods_pending_timeout, apache/airflow#53713) plus its run.
  const lifetime = Math.max(DAY_S, (signer.maxWaitS ?? 0) + (executionTimeoutMs ?? 0) / 1000 + HOUR_S);
  return Math.floor(signer.now() / 1000 + lifetime);
}

export function taskWorkload(
  signer: WorkloadSigner,
  plan: DagPlan | undefined,
  ti: TaskInstanceKey,
  tryNumber: number,
  extra: { priorityWeight: number; queue: string },
): TaskWorkload {
  const task = plan?.task(ti.task_id);
  const timeout = task?.execution_timeout_ms ?? null;
  const claims: TokenClaims = { ti, try_number: tryNumber, exp: expiry(signer, timeout), scope: "task" };
  return {
    kind: "task",
    ti,
    try_number: tryNumber,
    fileloc: plan?.dag.fileloc ?? "",
    token: signToken(claims, signer.secretKey),
    api_url: signer.apiUrl,
    log_path: join(signer.logFolder, taskLogRelativePath(ti, tryNumber)),
    fresh_process: task?.fresh_process ?? false,
    queue: extra.queue,
    priority_weight: extra.priorityWeight,
    execution_timeout_ms: timeout,
    // Only executors read it (the KubernetesExecutor's podOverride): absent when empty.
    ...(task !== undefined && Object.keys(task.executor_config).length > 0
      ? { executor_config: task.executor_config }
      : {}),
  };
}

export type CallbackKind = CallbackWorkload["callback"];

/**
 * A callback to run in a runner. Task callbacks log into the try's log; DAG-level ones into
 * `dag_id=…/run_id=…/callback=<kind>.log` beside the run's task folders.
 */
export function callbackWorkload(
  signer: WorkloadSigner,
  plan: DagPlan | undefined,
  callback: CallbackKind,
  ti: TaskInstanceKey,
  tryNumber: number,
  extra: { taskIds?: string[]; error?: string | null; deadline?: CallbackWorkload["deadline"] } = {},
): CallbackWorkload {
  const tryN = Math.max(1, tryNumber);
  const claims: TokenClaims = { ti, try_number: tryN, exp: expiry(signer, null), scope: "callback" };
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
    token: signToken(claims, signer.secretKey),
    api_url: signer.apiUrl,
    log_path: join(signer.logFolder, relative),
    ...(extra.taskIds === undefined ? {} : { task_ids: extra.taskIds }),
    ...(extra.error === undefined ? {} : { error: extra.error }),
    ...(extra.deadline === undefined ? {} : { deadline: extra.deadline }),
  };
}
