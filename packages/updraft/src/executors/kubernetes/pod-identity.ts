// Who a worker Pod is: its deterministic name, its labels (for selectors: `kubectl logs -l
// dag_id=…`, the executor's watch) and its annotations (the full ids, which labels may shorten).
// A Pod's identity is read back from its annotations alone, so that any scheduler can adopt it.
import { createHash } from "node:crypto";
import type { TaskInstanceKey, Workload } from "../../model/execution-api.js";
import { labelSafe } from "../../kube/index.js";

/** Marks every worker Pod of the KubernetesExecutor (Airflow's label). */
export const WORKER_LABEL = "kubernetes_executor";
/** The id of the scheduler that owns the Pod (Airflow's `airflow-worker`). */
export const OWNER_LABEL = "updraft-worker";
/** Set on a Pod kept after its try: the executor reported it and looks at it no more. */
export const DONE_LABEL = "updraft_executor_done";
/** On callback Pods: which callback runs in it. */
export const CALLBACK_LABEL = "updraft_callback";

const NAME_MAX = 63;
const HASH_LEN = 10;

/** What identifies one worker Pod: a try of a task instance, or one callback of it. */
export interface PodKey {
  kind: "task" | "callback";
  ti: TaskInstanceKey;
  try_number: number;
  /** For callbacks: which one, and what makes it unique (an SLA miss's tasks, a deadline). */
  callback?: string;
  callbackId?: string;
}

export function podKeyOf(w: Workload): PodKey {
  if (w.kind === "task") return { kind: "task", ti: w.ti, try_number: w.try_number };
  const id = JSON.stringify([w.callback, w.task_ids ?? null, w.deadline ?? null]);
  return {
    kind: "callback",
    ti: w.ti,
    try_number: w.try_number,
    callback: w.callback,
    callbackId: createHash("sha256").update(id).digest("hex").slice(0, 12),
  };
}

/** One string per Pod key, for maps. */
export function podKeyString(k: PodKey): string {
  return JSON.stringify([
    k.kind,
    k.ti.dag_id,
    k.ti.run_id,
    k.ti.task_id,
    k.ti.map_index,
    k.try_number,
    k.callbackId ?? null,
  ]);
}

function dnsPart(s: string): string {
  return s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-+|-+$/g, "");
}

/**
 * The Pod's name: readable DAG and task ids (`data-pipeline-lab-generate-data-…`, as the
 * tutorial's `kubectl get pods` shows) and a hash of the whole identity (run, map index, try,
 * callback), so that the same try always gets the same name and a repeated create meets 409.
 */
export function podName(k: PodKey): string {
  const identity = podKeyString(k);
  const hash = createHash("sha256").update(identity).digest("hex").slice(0, HASH_LEN);
  const readable = [k.ti.dag_id, k.ti.task_id];
  if (k.ti.map_index >= 0) readable.push(String(k.ti.map_index));
  if (k.callback !== undefined) readable.push(k.callback);
  const head = dnsPart(readable.join("-"))
    .slice(0, NAME_MAX - HASH_LEN - 1)
    .replace(/-+$/, "");
  return head === "" ? `t-${hash}` : `${head}-${hash}`;
}

/** The Secret holding the Pod's execution token (owned by the Pod once it exists). */
export function tokenSecretName(pod: string): string {
  return `${pod}-token`;
}

/** Labels of a worker Pod: label-safe values, for selectors. */
export function podLabels(k: PodKey, owner: string): Record<string, string> {
  return { ...identityLabels(k), [OWNER_LABEL]: labelSafe(owner) };
}

/**
 * The label selector of one try's Pod, whichever scheduler owns it (the API server reads the
 * log of a try whose log file it lacks from its Pod): the same labels the executor sets, and, as
 * unmapped tries and task Pods carry no map_index or callback label, their absence.
 */
export function tryPodSelector(k: PodKey): string {
  const terms = Object.entries(identityLabels(k)).map(([name, value]) => `${name}=${value}`);
  if (k.ti.map_index < 0) terms.push("!map_index");
  if (k.callback === undefined) terms.push(`!${CALLBACK_LABEL}`);
  return terms.join(",");
}

/** Every label of a worker Pod but its owner's. */
function identityLabels(k: PodKey): Record<string, string> {
  const labels: Record<string, string> = {
    [WORKER_LABEL]: "True",
    dag_id: labelSafe(k.ti.dag_id),
    task_id: labelSafe(k.ti.task_id),
    run_id: labelSafe(k.ti.run_id),
    try_number: String(k.try_number),
  };
  // "-1" is no label value (it must start with an alphanumeric): unmapped instances have none,
  // as in Airflow.
  if (k.ti.map_index >= 0) labels["map_index"] = String(k.ti.map_index);
  if (k.callback !== undefined) labels[CALLBACK_LABEL] = k.callback;
  return labels;
}

const ANNOTATION_KEYS = ["dag_id", "task_id", "run_id", "map_index", "try_number"] as const;

/** The full ids, which a label may have had to shorten or change. */
export function podAnnotations(k: PodKey): Record<string, string> {
  const a: Record<string, string> = {
    dag_id: k.ti.dag_id,
    task_id: k.ti.task_id,
    run_id: k.ti.run_id,
    map_index: String(k.ti.map_index),
    try_number: String(k.try_number),
  };
  if (k.callback !== undefined) {
    a["callback"] = k.callback;
    a["callback_id"] = k.callbackId ?? "";
  }
  return a;
}

/** The key of a worker Pod from its annotations, or null when they are not a worker's. */
export function podKeyFromAnnotations(annotations: Record<string, string> | undefined): PodKey | null {
  if (annotations === undefined) return null;
  for (const k of ANNOTATION_KEYS) if (typeof annotations[k] !== "string") return null;
  const mapIndex = Number(annotations["map_index"]);
  const tryNumber = Number(annotations["try_number"]);
  if (!Number.isInteger(mapIndex) || !Number.isInteger(tryNumber) || tryNumber < 1) return null;
  const ti = {
    dag_id: annotations["dag_id"] as string,
    run_id: annotations["run_id"] as string,
    task_id: annotations["task_id"] as string,
    map_index: mapIndex,
  };
  const callback = annotations["callback"];
  if (callback !== undefined)
    return {
      kind: "callback",
      ti,
      try_number: tryNumber,
      callback,
      callbackId: annotations["callback_id"] ?? "",
    };
  return { kind: "task", ti, try_number: tryNumber };
}
