/** Kubernetes Events (core/v1) about a Pod, as the scheduler and the kubelet record them. */
import { nowSeconds, type Store } from "./store.js";
import type { KubeObject } from "./types.js";

export type EventType = "Normal" | "Warning";

export function recordEvent(
  store: Store,
  involved: KubeObject,
  type: EventType,
  reason: string,
  message: string,
  options: { component?: string; fieldPath?: string } = {},
): void {
  const now = nowSeconds();
  const ns = involved.metadata.namespace ?? "default";
  const component = options.component ?? "kubelet";
  store.create("events", {
    apiVersion: "v1",
    kind: "Event",
    metadata: {
      name: eventName(involved.metadata.name),
      namespace: ns,
      uid: "",
      resourceVersion: "",
      creationTimestamp: "",
    },
    involvedObject: {
      apiVersion: involved.apiVersion,
      kind: involved.kind,
      name: involved.metadata.name,
      namespace: ns,
      uid: involved.metadata.uid,
      resourceVersion: involved.metadata.resourceVersion,
      ...(options.fieldPath === undefined ? {} : { fieldPath: options.fieldPath }),
    },
    reason,
    message,
    type,
    count: 1,
    firstTimestamp: now,
    lastTimestamp: now,
    source: component === "kubelet" ? { component, host: "kube-sim-node" } : { component },
    reportingComponent: component,
    reportingInstance: component === "kubelet" ? "kube-sim-node" : "",
  });
}

let sequence = 0n;

/** `<object>.<hex of Unix nanoseconds>`, as the kubelet names them: a list sorted by name is chronological. */
function eventName(object: string): string {
  const nanos = BigInt(Date.now()) * 1_000_000n + (sequence++ % 1_000_000n);
  return `${object}.${nanos.toString(16)}`;
}
