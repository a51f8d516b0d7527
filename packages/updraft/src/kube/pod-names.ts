import { dnsName, labelSafe } from "./labels.js";

/** Which try of which task instance a Pod or SparkApplication belongs to. */
export interface TryIdentity {
  dagId: string;
  taskId: string;
  runId: string;
  /** -1 for an unmapped task. */
  mapIndex: number;
  tryNumber: number;
}

/**
 * The name of the object one try creates: `name` first (what a person looks for in
 * `kubectl get pods`), the task instance folded into a hash, the try last. The same try always
 * gets the same name, so a repeated create meets 409 instead of making a second Pod, and a retry
 * gets a name of its own. `max` leaves room for suffixes Kubernetes or an operator adds
 * (a SparkApplication's driver Pod is `<name>-driver`).
 *
 * @example tryObjectName("feature-prep", id, 63) → "feature-prep-ml-training-pipeline-prepar-1a2b3c4d-try1"
 */
export function tryObjectName(name: string, id: TryIdentity, max = 63): string {
  const suffix = `-try${id.tryNumber}`;
  const parts = [name, id.dagId, id.taskId, id.runId, ...(id.mapIndex >= 0 ? [`m${id.mapIndex}`] : [])];
  return `${dnsName(parts, max - suffix.length)}${suffix}`;
}

/**
 * Labels that find a try's objects again (`kubectl get pods -l dag_id=…`); label-safe values,
 * the full ones go in {@link tryAnnotations}. Without the try number: they select every try.
 */
export function taskInstanceLabels(
  id: Omit<TryIdentity, "tryNumber">,
  marker: string,
): Record<string, string> {
  const labels: Record<string, string> = {
    dag_id: labelSafe(id.dagId),
    task_id: labelSafe(id.taskId),
    run_id: labelSafe(id.runId),
    [marker]: "true",
  };
  if (id.mapIndex >= 0) labels["map_index"] = String(id.mapIndex);
  return labels;
}

/** {@link taskInstanceLabels} plus the try number: the labels a try's objects carry. */
export function tryLabels(id: TryIdentity, marker: string): Record<string, string> {
  return { ...taskInstanceLabels(id, marker), try_number: String(id.tryNumber) };
}

/** The unshortened ids, for people and tools when a label had to be shortened. */
export function tryAnnotations(id: TryIdentity): Record<string, string> {
  return {
    "updraft.io/dag-id": id.dagId,
    "updraft.io/task-id": id.taskId,
    "updraft.io/run-id": id.runId,
    "updraft.io/map-index": String(id.mapIndex),
    "updraft.io/try-number": String(id.tryNumber),
  };
}

/** A label selector (`a=b,c=d`) from labels. */
export function selectorOf(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(",");
}
