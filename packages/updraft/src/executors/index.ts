/** Executors: where workloads run. Each implements {@link Executor}. */
export { stderrLogger } from "./executor.js";
export type {
  Executor,
  ExecutorEvent,
  ExecutorListener,
  ExecutorLogger,
  StopOptions,
  StopResult,
} from "./executor.js";
export { ExecutorSet } from "./executor-set.js";
export { LocalExecutor, RUNNER_SCRIPT } from "./local/index.js";
export type { LocalExecutorOptions } from "./local/index.js";
export {
  EXECUTOR_NAMES,
  kubernetesExecutorOptions,
  localExecutorOptions,
  parseExecutorSetting,
} from "./from-config.js";
export type { ExecutorName } from "./from-config.js";
export { KubernetesExecutor } from "./kubernetes/index.js";
export type { KubernetesExecutorOptions, KubernetesExecutorStats } from "./kubernetes/index.js";
export { QueueExecutor, queueExecutorOptions } from "./queue/index.js";
export type { QueueExecutorOptions } from "./queue/index.js";
