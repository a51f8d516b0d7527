export { KubernetesExecutor } from "./kubernetes-executor.js";
export type { KubernetesExecutorOptions, KubernetesExecutorStats } from "./options.js";
export { mergePod } from "./pod-merge.js";
export type { PodOverride } from "./pod-merge.js";
export {
  CALLBACK_LABEL,
  DONE_LABEL,
  OWNER_LABEL,
  WORKER_LABEL,
  podAnnotations,
  podKeyFromAnnotations,
  podKeyOf,
  podLabels,
  podName,
} from "./pod-identity.js";
export type { PodKey } from "./pod-identity.js";
export { podVerdict, pendingTimeoutReason, FATAL_WAITING_REASONS } from "./pod-status.js";
export type { PodVerdict } from "./pod-status.js";
export { BASE_CONTAINER, TOKEN_ENV, WORKLOAD_ENV, buildWorkerPod, defaultPodTemplate } from "./worker-pod.js";
export type { WorkerPod, WorkerPodInput } from "./worker-pod.js";
