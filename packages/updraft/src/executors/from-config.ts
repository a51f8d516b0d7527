import { UPDRAFT_VERSION } from "../common/version.js";
import { UpdraftError } from "../common/errors.js";
import type { UpdraftConfig } from "../config/index.js";
import type { KubernetesExecutorOptions } from "./kubernetes/options.js";
import type { LocalExecutorOptions } from "./local/local-executor-options.js";
import { EXECUTOR_NAMES, knownExecutorName, type ExecutorName } from "../model/executor-names.js";

export { EXECUTOR_NAMES, type ExecutorName };

/**
 * `core.executor` as a list (Airflow 2.10's syntax: comma-separated, the first is the default for
 * tasks that name none, a task's `executor` option picks another). Each name must be known, case
 * as Airflow writes it or any case; a name listed twice counts once (its first place).
 */
export function parseExecutorSetting(value: string): ExecutorName[] {
  const names = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (names.length === 0) return ["LocalExecutor"];
  const out: ExecutorName[] = [];
  for (const n of names) {
    const known = knownExecutorName(n);
    if (known === undefined)
      throw new UpdraftError(
        "UNKNOWN_EXECUTOR",
        `core.executor names "${n}", which is not an executor of Updraft: use one of ${EXECUTOR_NAMES.join(", ")} (UPDRAFT__CORE__EXECUTOR).`,
      );
    if (!out.includes(known)) out.push(known);
  }
  return out;
}

/** LocalExecutor options from the configuration (`core.parallelism`); `overrides` win. */
export function localExecutorOptions(
  config: UpdraftConfig,
  overrides: LocalExecutorOptions = {},
): LocalExecutorOptions {
  return { parallelism: config.core.parallelism, ...overrides };
}

/** KubernetesExecutor options from the configuration (`kubernetes_executor.*`); `overrides` win. */
export function kubernetesExecutorOptions(
  config: UpdraftConfig,
  overrides: Partial<KubernetesExecutorOptions> = {},
): KubernetesExecutorOptions {
  const k = config.kubernetes_executor;
  const repository = k.worker_container_repository.trim();
  const tag = k.worker_container_tag.trim() || UPDRAFT_VERSION;
  return {
    parallelism: config.core.parallelism,
    namespace: k.namespace,
    podTemplateFile: k.pod_template_file ?? undefined,
    image: repository === "" ? `updraft:${UPDRAFT_VERSION}` : `${repository}:${tag}`,
    imageConfigured: repository !== "",
    deleteWorkerPods: k.delete_worker_pods,
    deleteWorkerPodsOnFailure: k.delete_worker_pods_on_failure,
    pendingTimeoutS: k.worker_pods_pending_timeout,
    pendingCheckIntervalS: k.worker_pods_pending_timeout_check_interval,
    creationBatchSize: k.worker_pods_creation_batch_size,
    requestTimeoutMs: k.api_request_timeout * 1000,
    target: {
      inCluster: k.in_cluster,
      ...(k.config_file === null ? {} : { configFile: k.config_file }),
      ...(k.cluster_context === null ? {} : { clusterContext: k.cluster_context }),
    },
    ...overrides,
  };
}
