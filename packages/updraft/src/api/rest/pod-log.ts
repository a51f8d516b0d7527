// A try's log read from its Pod, for when the log file is not on the API server: with the
// KubernetesExecutor and no shared logs volume (the tutorial's lab values turn
// logs.persistence off) the runner's file stays inside the Pod, but the runner echoes it to the
// container's output, which the Kubernetes API serves while the Pod exists (Airflow's
// KubernetesExecutor.get_task_log does the same). Kubernetes failures become a line of the log
// text, never an error answer: the log view is where a person looks when something is wrong.
import type { V1Pod } from "@kubernetes/client-node";
import type { UpdraftConfig } from "../../config/index.js";
import { kubernetesExecutorOptions, parseExecutorSetting } from "../../executors/from-config.js";
import { KubeApi, kubeFailure } from "../../executors/kubernetes/kube-api.js";
import { tryPodSelector } from "../../executors/kubernetes/pod-identity.js";
import { BASE_CONTAINER } from "../../executors/kubernetes/worker-pod.js";
import type { TaskInstanceKey } from "../../model/execution-api.js";

/** What to do so that logs outlive their Pods; said wherever a log came from a Pod or was lost with it. */
export const PERSISTENCE_HINT =
  "enable logs.persistence (a logs volume shared by the API server and the worker Pods) to keep logs after the Pod is deleted";

export type PodLog =
  /** The text to serve: the Pod's log after a line saying where it came from, or a line saying why it could not be read. */
  | { found: true; text: string }
  /** No Pod of that try exists (any more); `hint` says why and what to do. */
  | { found: false; hint: string };

export interface PodLogSource {
  read(ti: TaskInstanceKey, tryNumber: number): Promise<PodLog>;
}

/**
 * The Pod log source of an API server whose `core.executor` is the KubernetesExecutor, else null.
 * It reaches the cluster as the executor does (kubernetes_executor.in_cluster, config_file,
 * cluster_context, namespace, api_request_timeout), connecting on first use and keeping the client.
 */
export function podLogSource(config: UpdraftConfig): PodLogSource | null {
  let kubernetes: boolean;
  try {
    kubernetes = parseExecutorSetting(config.core.executor).includes("KubernetesExecutor");
  } catch {
    // The scheduler reports a bad core.executor; the log view simply has no Pods to look at.
    kubernetes = false;
  }
  if (!kubernetes) return null;
  const options = kubernetesExecutorOptions(config);
  const namespace = options.namespace ?? "default";
  let client: Promise<KubeApi> | null = null;
  const connect = (): Promise<KubeApi> => {
    client ??= KubeApi.connect(options.target ?? {}, options.requestTimeoutMs).catch((err: unknown) => {
      // A kubeconfig fixed later is picked up by the next request.
      client = null;
      throw err;
    });
    return client;
  };

  return {
    async read(ti, tryNumber) {
      const selector = tryPodSelector({ kind: "task", ti, try_number: tryNumber });
      let api: KubeApi;
      let pods: V1Pod[];
      try {
        api = await connect();
        pods = (await api.listPods(namespace, selector)).items;
      } catch (err) {
        return {
          found: true,
          text: line(
            `Could not look for the Pod of try ${tryNumber} in namespace "${namespace}" (the log file is not on the API server): ${failure(err)}`,
          ),
        };
      }
      const pod = newest(pods);
      const name = pod?.metadata?.name;
      if (name === undefined)
        return {
          found: false,
          hint: `Its log file is not on the API server, and no Pod of the try is left in namespace "${namespace}" to read it from (Pods are deleted after their try unless kubernetes_executor.delete_worker_pods is false): ${PERSISTENCE_HINT}.`,
        };
      try {
        const log = await api.readPodLog(namespace, name, BASE_CONTAINER);
        return {
          found: true,
          text:
            line(
              `Reading from the Pod ${name} (the log file is not on the API server: ${PERSISTENCE_HINT})`,
            ) + log,
        };
      } catch (err) {
        return {
          found: true,
          text: line(
            `Could not read the log of the Pod ${name} (container "${BASE_CONTAINER}") in namespace "${namespace}": ${failure(err)}`,
          ),
        };
      }
    },
  };
}

/** A line of Updraft's own in a task log, marked as Airflow marks them. */
function line(text: string): string {
  return `*** ${text}\n`;
}

function failure(err: unknown): string {
  const f = kubeFailure(err);
  return f.code === 0 ? f.message : `the Kubernetes API answered ${f.code}: ${f.message}`;
}

/** The most recently created of the Pods (a try has one; a Pod left behind by a crash may add another). */
function newest(pods: V1Pod[]): V1Pod | undefined {
  const created = (p: V1Pod): number => new Date(p.metadata?.creationTimestamp ?? 0).getTime();
  return [...pods].sort((a, b) => created(b) - created(a))[0];
}
