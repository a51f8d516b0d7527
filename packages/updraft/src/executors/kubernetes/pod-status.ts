// What a worker Pod's status means for its try (pure; decision 0023 §5). Phases and container
// reasons become one of: still pending (maybe unschedulable), running, succeeded (the runner did
// its job and reported the try itself), or failed with the reason the scheduler writes into the
// try's log and note before failing the try through the normal retries.
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";
import { BASE_CONTAINER } from "./worker-pod.js";

export type PodVerdict =
  | { kind: "pending"; unschedulable: string | null }
  | { kind: "running" }
  | { kind: "succeeded" }
  | { kind: "failed"; reason: string };

/**
 * Waiting reasons after which a container never starts without a change to the Pod (Airflow's
 * worker_pod_pending_fatal_container_state_reasons, plus ImagePullBackOff, which is ErrImagePull
 * retried, and CrashLoopBackOff, for templates that let the kubelet restart the container).
 */
export const FATAL_WAITING_REASONS: ReadonlySet<string> = new Set([
  "ErrImagePull",
  "ImagePullBackOff",
  "InvalidImageName",
  "ImageInspectError",
  "CreateContainerConfigError",
  "CreateContainerError",
  "CrashLoopBackOff",
]);

function statuses(pod: V1Pod): { init: V1ContainerStatus[]; main: V1ContainerStatus[] } {
  return { init: pod.status?.initContainerStatuses ?? [], main: pod.status?.containerStatuses ?? [] };
}

/** A container stuck waiting for a reason it will not get over, e.g. `ErrImagePull`. */
function fatalWaiting(pod: V1Pod): string | null {
  const { init, main } = statuses(pod);
  for (const s of [...init, ...main]) {
    const w = s.state?.waiting;
    if (w?.reason === undefined || !FATAL_WAITING_REASONS.has(w.reason)) continue;
    // The kubelet's own throttling, not the image's fault (as Airflow skips it).
    if (w.reason === "ErrImagePull" && w.message === "pull QPS exceeded") continue;
    const image = s.image !== undefined && s.image !== "" ? ` (image ${s.image})` : "";
    return `${w.reason}: container ${s.name}${image} cannot start${w.message ? `: ${w.message}` : ""}`;
  }
  return null;
}

/** Why a Failed Pod failed: eviction, OOM kill, an init container or the base container's exit. */
function failure(pod: V1Pod): string {
  const phaseReason = pod.status?.reason;
  const phaseMessage = pod.status?.message;
  if (phaseReason === "Evicted")
    return `Evicted: the node evicted the Pod${phaseMessage ? `: ${phaseMessage}` : ""}`;
  const { init, main } = statuses(pod);
  for (const s of init) {
    const t = s.state?.terminated;
    if (t !== undefined && t.exitCode !== 0)
      return `init container ${s.name} failed with exit code ${t.exitCode}${t.reason ? ` (${t.reason})` : ""}${t.message ? `: ${t.message}` : ""}`;
  }
  const ordered = [...main].sort(
    (a, b) => Number(b.name === BASE_CONTAINER) - Number(a.name === BASE_CONTAINER),
  );
  for (const s of ordered) {
    const t = s.state?.terminated ?? s.lastState?.terminated;
    if (t === undefined) continue;
    if (t.reason === "OOMKilled")
      return `OOMKilled: container ${s.name} ran out of memory and was killed (exit code ${t.exitCode})`;
    if (t.exitCode !== 0)
      return `container ${s.name} exited with code ${t.exitCode}${t.reason ? ` (${t.reason})` : ""}${t.message ? `: ${t.message}` : ""}`;
  }
  if (phaseReason !== undefined) return `${phaseReason}${phaseMessage ? `: ${phaseMessage}` : ""}`;
  return "the Pod failed without a container status";
}

/** The scheduler's message when the Pod cannot be scheduled (Unschedulable), or null. */
export function unschedulable(pod: V1Pod): string | null {
  const c = pod.status?.conditions?.find((x) => x.type === "PodScheduled");
  if (c === undefined || c.status !== "False") return null;
  return `${c.reason ?? "Unschedulable"}${c.message ? `: ${c.message}` : ""}`;
}

/**
 * The verdict on a Pod as a watch (or a list) shows it. `deleted` is a DELETED watch event: a Pod
 * that disappears before it ended lost its try.
 */
export function podVerdict(pod: V1Pod, deleted = false): PodVerdict {
  const phase = pod.status?.phase ?? "Pending";
  const name = pod.metadata?.name ?? "?";
  if (phase === "Succeeded") return { kind: "succeeded" };
  if (phase === "Failed") return { kind: "failed", reason: `Pod ${name} failed: ${failure(pod)}` };
  const fatal = fatalWaiting(pod);
  if (fatal !== null) return { kind: "failed", reason: `Pod ${name} ${fatal}` };
  if (deleted)
    return {
      kind: "failed",
      reason: `Pod ${name} was deleted while ${phase} (by someone else than this executor), before its try ended`,
    };
  // Unknown (the node stopped reporting) counts as running: the runner may still be at work, and
  // the heartbeat timeout settles the try if it is not.
  if (phase === "Running" || phase === "Unknown") return { kind: "running" };
  return { kind: "pending", unschedulable: unschedulable(pod) };
}

/** The reason a Pod pending past the timeout gets, with what kept it pending when known. */
export function pendingTimeoutReason(pod: V1Pod, timeoutS: number): string {
  const name = pod.metadata?.name ?? "?";
  const why = unschedulable(pod);
  const waiting = statuses(pod)
    .main.map((s) => s.state?.waiting?.reason)
    .find((r) => r !== undefined);
  const detail = why ?? (waiting !== undefined ? `container waiting: ${waiting}` : null);
  return `Pod ${name} stayed Pending for over ${timeoutS} s (kubernetes_executor.worker_pods_pending_timeout)${detail !== null ? `; ${detail}` : ""}`;
}
