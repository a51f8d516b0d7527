// Waiting for a Pod to leave Pending, as Airflow's await_pod_start does: its waiting reasons go
// into the task log as they appear, a hopeless one fails at once, and past the startup timeout
// the error names the Pod, why it waits and what to do (with its Warning events in the log).
import type { CoreV1Event, V1Pod } from "@kubernetes/client-node";
import { UpdraftError } from "../common/errors.js";
import { HOPELESS_WAITING, describeWaiting, podStarted, waitingReasons } from "./pod-state.js";
import { pollDelay, sleepUnlessAborted, throwIfAborted } from "./waits.js";

export interface PodStartWait {
  /** "namespace/name", for messages. */
  ref: string;
  startupTimeoutMs: number;
  signal: AbortSignal;
  log(level: "INFO" | "WARNING" | "ERROR", text: string): void;
  read(): Promise<V1Pod>;
  warningEvents(): Promise<CoreV1Event[]>;
}

/** Resolves with the Pod once it has started (or already ended). */
export async function waitForPodStart(w: PodStartWait): Promise<V1Pod> {
  const t0 = Date.now();
  let last: string | undefined;
  // Each reason once: a failing pull flips between ErrImagePull and ImagePullBackOff as it waits.
  const told = new Set<string>();
  for (;;) {
    throwIfAborted(w.signal);
    const pod = await w.read();
    if (podStarted(pod)) return pod;
    const waiting = describeWaiting(pod);
    const reasons = waitingReasons(pod)
      .map((r) => r.reason)
      .join(",");
    if (waiting !== undefined && !told.has(reasons)) w.log("WARNING", `Pod ${w.ref} is waiting: ${waiting}`);
    told.add(reasons);
    last = waiting ?? last;
    const hopeless = (pod.status?.containerStatuses ?? []).find((s) =>
      HOPELESS_WAITING.has(s.state?.waiting?.reason ?? ""),
    );
    if (hopeless !== undefined) {
      const wait = hopeless.state?.waiting;
      throw new UpdraftError(
        "KUBERNETES_POD_FAILED",
        `Pod ${w.ref} cannot start: container ${hopeless.name} is waiting with ${wait?.reason}${wait?.message ? ` (${wait.message})` : ""}. Fix the image name.`,
      );
    }
    if (Date.now() - t0 >= w.startupTimeoutMs) {
      await logWarnings(w);
      throw new UpdraftError(
        "KUBERNETES_POD_START_TIMEOUT",
        `Pod ${w.ref} did not start within startupTimeoutSeconds (${Math.round(w.startupTimeoutMs / 1000)} s): ${last === undefined ? "it is still Pending" : `it is waiting: ${last}`}. ${adviceForWaiting(last)}`,
      );
    }
    await sleepUnlessAborted(pollDelay(t0), w.signal);
  }
}

/** The Pod's last Warning events into the task log (Airflow's log_events_on_failure): why it waits. */
async function logWarnings(w: PodStartWait): Promise<void> {
  try {
    for (const e of (await w.warningEvents()).slice(-5))
      w.log("WARNING", `Pod event ${e.reason ?? ""}: ${e.message ?? ""}`);
  } catch {
    // Events only explain; the timeout is the error.
  }
}

function adviceForWaiting(waiting: string | undefined): string {
  if (waiting === undefined) return "Look at its events: kubectl describe pod.";
  if (/ErrImagePull|ImagePullBackOff|InvalidImageName/.test(waiting))
    return "Check the image name and tag, and that the cluster may pull it (imagePullSecrets).";
  if (/Unschedulable/.test(waiting))
    return "No node fits its requests, node selector and tolerations: lower the requests or add capacity.";
  if (/CreateContainerConfigError/.test(waiting))
    return "A Secret or ConfigMap it names (envFrom, env, volumes) is missing: create it in the Pod's namespace.";
  return "Raise startupTimeoutSeconds if it only needs longer; else look at its events (kubectl describe pod).";
}
