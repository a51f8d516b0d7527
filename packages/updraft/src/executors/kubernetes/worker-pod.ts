// The worker Pod of one workload and the Secret that carries its token: the template (built-in or
// kubernetes_executor.pod_template_file), the task's podOverride merged onto it (pod-merge.ts),
// then what the executor owns: name, namespace, labels, annotations and the `base` container's
// command. The token never appears in the Pod: the runner reads it from the Secret through
// `secretKeyRef`, so it is in no label, annotation, command line or `kubectl describe`.
import type { V1Container, V1EnvVar, V1Pod, V1Secret } from "@kubernetes/client-node";
import { UpdraftError } from "../../common/errors.js";
import type { Workload } from "../../model/execution-api.js";
import { mergePod, type PodOverride } from "./pod-merge.js";
import {
  podAnnotations,
  podKeyOf,
  podLabels,
  podName,
  tokenSecretName,
  type PodKey,
} from "./pod-identity.js";

/** The container that runs the task; other containers of a template or override are sidecars. */
export const BASE_CONTAINER = "base";
/** Environment variable with the workload's JSON (without its token) in the base container. */
export const WORKLOAD_ENV = "UPDRAFT_WORKLOAD";
/** Environment variable with the token, from the Secret. */
export const TOKEN_ENV = "UPDRAFT_EXECUTION_TOKEN";
/** Key of the token in the Secret. */
export const TOKEN_KEY = "token";

/** The built-in template: one `base` container running `updraft`, never restarted. */
export function defaultPodTemplate(): V1Pod {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {},
    spec: {
      restartPolicy: "Never",
      containers: [{ name: BASE_CONTAINER, command: ["updraft"], imagePullPolicy: "IfNotPresent" }],
    },
  };
}

export interface WorkerPodInput {
  workload: Workload;
  /** The scheduler that owns the Pod (its job id). */
  owner: string;
  namespace: string;
  /** The template, already loaded (built-in or from a file). */
  template: V1Pod;
  /** The image for `base` when neither the override nor (without a configured image) the template has one. */
  image: string;
  /** Whether `image` was configured (worker_container_repository): it then wins over the template's. */
  imageConfigured: boolean;
}

export interface WorkerPod {
  key: PodKey;
  name: string;
  pod: V1Pod;
  secret: V1Secret;
}

/** The task's podOverride (Airflow's `pod_override` spelling too), or undefined. */
export function podOverrideOf(w: Workload): PodOverride | undefined {
  if (w.kind !== "task" || w.executor_config === undefined) return undefined;
  const o = w.executor_config["podOverride"] ?? w.executor_config["pod_override"];
  if (o === undefined || o === null) return undefined;
  if (typeof o !== "object" || Array.isArray(o)) {
    throw new UpdraftError(
      "KUBERNETES_POD_OVERRIDE",
      `executorConfig.podOverride of task ${w.ti.dag_id}.${w.ti.task_id} is not an object: write a Pod, e.g. { spec: { containers: [{ name: "base", resources: { limits: { "nvidia.com/gpu": "1" } } }] } }.`,
    );
  }
  return o as PodOverride;
}

/** A per-task pod template file (`executorConfig.podTemplateFile`), or undefined. */
export function podTemplateFileOf(w: Workload): string | undefined {
  if (w.kind !== "task" || w.executor_config === undefined) return undefined;
  const f = w.executor_config["podTemplateFile"] ?? w.executor_config["pod_template_file"];
  return typeof f === "string" && f !== "" ? f : undefined;
}

/**
 * Kubernetes expands `$(VAR)` in a container's env values, command and args; `$$(` is its escape,
 * so that an id holding `$(` reaches the runner unchanged.
 */
function literal(s: string): string {
  return s.replaceAll("$(", "$$$$(");
}

/** What the runner in the Pod gets: the workload without its token and executor settings. */
function workloadForPod(w: Workload): string {
  const { token: _token, ...rest } = w;
  if (rest.kind === "task") delete rest.executor_config;
  return literal(JSON.stringify(rest));
}

function setEnv(env: V1EnvVar[] | undefined, vars: V1EnvVar[]): V1EnvVar[] {
  const names = new Set(vars.map((v) => v.name));
  return [...(env ?? []).filter((e) => !names.has(e.name)), ...vars];
}

/** Builds the Pod and its token Secret for `input.workload`. */
export function buildWorkerPod(input: WorkerPodInput): WorkerPod {
  const w = input.workload;
  const key = podKeyOf(w);
  const name = podName(key);
  const override = podOverrideOf(w);
  const merged = mergePod(input.template, override);
  const spec = merged.spec ?? { containers: [] };
  let base = spec.containers.find((c) => c.name === BASE_CONTAINER);
  if (base === undefined) {
    base = { name: BASE_CONTAINER, command: ["updraft"] };
    spec.containers = [base, ...spec.containers];
  }
  const overrideImage = override?.spec?.containers?.find(
    (c) => (c.name ?? BASE_CONTAINER) === BASE_CONTAINER,
  )?.image;
  base.image =
    overrideImage ?? (input.imageConfigured || base.image === undefined ? input.image : base.image);
  base.args = runnerArgs(w);
  base.env = setEnv(base.env, [
    { name: WORKLOAD_ENV, value: workloadForPod(w) },
    { name: TOKEN_ENV, valueFrom: { secretKeyRef: { name: tokenSecretName(name), key: TOKEN_KEY } } },
    { name: "UPDRAFT_IS_K8S_EXECUTOR_POD", value: "True" },
  ]);
  // Never restarted by the kubelet: a try runs once; a retry is a new try with a new Pod.
  spec.restartPolicy ??= "Never";
  const labels = { ...(merged.metadata?.labels ?? {}), ...podLabels(key, input.owner) };
  const annotations = { ...(merged.metadata?.annotations ?? {}), ...podAnnotations(key) };
  const pod: V1Pod = {
    ...merged,
    apiVersion: "v1",
    kind: "Pod",
    metadata: { ...merged.metadata, name, namespace: input.namespace, labels, annotations },
    spec,
  };
  delete pod.status;
  delete pod.metadata?.generateName;
  const secret: V1Secret = {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: tokenSecretName(name),
      namespace: input.namespace,
      labels: podLabels(key, input.owner),
      annotations: podAnnotations(key),
    },
    stringData: { [TOKEN_KEY]: w.token },
  };
  return { key, name, pod, secret };
}

/** `updraft tasks run DAG TASK RUN --map-index N --workload-env UPDRAFT_WORKLOAD`: readable in `kubectl describe`. */
function runnerArgs(w: Workload): string[] {
  return [
    "tasks",
    "run",
    w.ti.dag_id,
    w.ti.task_id,
    w.ti.run_id,
    "--map-index",
    String(w.ti.map_index),
    "--workload-env",
    WORKLOAD_ENV,
  ].map(literal);
}

/** The base container of a Pod, if it has one. */
export function baseContainer(pod: V1Pod): V1Container | undefined {
  return pod.spec?.containers.find((c) => c.name === BASE_CONTAINER);
}
