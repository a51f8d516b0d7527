// The KubernetesExecutor's options (from kubernetes_executor.* through executors/from-config.ts)
// and the figures it reports.
import type { KubeTarget } from "../../kube/index.js";
import type { ExecutorLogger } from "../executor.js";
import type { WatchStats } from "./pod-watch.js";

export interface KubernetesExecutorOptions {
  /** Pods that may run at once (core.parallelism). Default 32. */
  parallelism?: number;
  namespace?: string;
  /** YAML pod template; undefined: the built-in one. */
  podTemplateFile?: string | undefined;
  /** The base container's image: `repository:tag` when configured. */
  image: string;
  /** Whether `image` was configured: it then wins over the template's image. */
  imageConfigured?: boolean;
  deleteWorkerPods?: boolean;
  deleteWorkerPodsOnFailure?: boolean;
  /** Seconds a Pod may stay Pending. Default 300. */
  pendingTimeoutS?: number;
  /** Seconds between checks for Pods pending too long. Default 120. */
  pendingCheckIntervalS?: number;
  /** Pods created at once. Default 1. */
  creationBatchSize?: number;
  /** Where the cluster is. */
  target?: KubeTarget;
  /** The owning scheduler's id, if known before the scheduler calls `adopt`. */
  owner?: string;
  /** Deadline of each API request, ms. Default 30 000. */
  requestTimeoutMs?: number;
  /** Server-side timeout of each watch, s. Default 300. */
  watchTimeoutSeconds?: number;
  /** A watch request unanswered this long is abandoned and made again, ms. Default 30 000. */
  watchConnectTimeoutMs?: number;
  /** Attempts of an API call that fails transiently. Default 5. */
  apiAttempts?: number;
  logger?: ExecutorLogger;
}

/** Time the executor spent, for the benchmark: its own work and waiting on the API server. */
export interface KubernetesExecutorStats {
  queued: number;
  busy: number;
  launched: number;
  adopted: number;
  /** ms in the executor's own code building Pods and handling their events. */
  ownMs: number;
  /** API calls made and ms spent waiting for their answers. */
  apiCalls: number;
  apiWaitMs: number;
  watch: WatchStats | null;
}
