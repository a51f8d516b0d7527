// Reading a Pod's status the way the operators need it: is it still starting, why is it
// waiting, did a container end and how. Pure functions over the API's Pod object.
import type { V1ContainerStatus, V1Pod } from "@kubernetes/client-node";

/**
 * Waiting reasons that never clear by themselves: fail at once instead of waiting for the startup
 * timeout. A failed pull or a missing Secret can clear (the kubelet retries): those wait.
 */
export const HOPELESS_WAITING = new Set(["InvalidImageName"]);

export function containerStatus(pod: V1Pod, container: string): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((s) => s.name === container);
}

/** The Pod has left Pending (or ended): its containers started or could not. */
export function podStarted(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase !== undefined && phase !== "Pending";
}

export function podEnded(pod: V1Pod): boolean {
  return pod.status?.phase === "Succeeded" || pod.status?.phase === "Failed";
}

/** How a container ended, or null while it has not. */
export interface ContainerEnd {
  exitCode: number;
  reason: string | undefined;
  message: string | undefined;
  finishedAt: Date | undefined;
}

export function containerEnd(pod: V1Pod, container: string): ContainerEnd | null {
  const t = containerStatus(pod, container)?.state?.terminated;
  if (t === undefined) return null;
  return { exitCode: t.exitCode, reason: t.reason, message: t.message, finishedAt: t.finishedAt };
}

/** Why the Pod is not running yet: container waiting reasons, else an unmet condition (Unschedulable). */
export function waitingReasons(
  pod: V1Pod,
): { reason: string; message: string | undefined; container?: string }[] {
  const out: { reason: string; message: string | undefined; container?: string }[] = [];
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const s of statuses) {
    const w = s.state?.waiting;
    if (w?.reason !== undefined && w.reason !== "ContainerCreating" && w.reason !== "PodInitializing")
      out.push({ reason: w.reason, message: w.message, container: s.name });
  }
  for (const c of pod.status?.conditions ?? []) {
    if (c.status === "False" && c.reason !== undefined && c.type === "PodScheduled")
      out.push({ reason: c.reason, message: c.message });
  }
  return out;
}

/** One line on why a Pod waits, e.g. `container base: ErrImagePull (pull access denied …)`. */
export function describeWaiting(pod: V1Pod): string | undefined {
  const reasons = waitingReasons(pod);
  if (reasons.length === 0) return undefined;
  return reasons
    .map(
      (r) =>
        `${r.container === undefined ? "" : `container ${r.container}: `}${r.reason}${r.message ? ` (${r.message})` : ""}`,
    )
    .join("; ");
}

/** A container's end in words, with what to do for the reasons users meet most. */
export function describeEnd(end: ContainerEnd, container: string): string {
  const why = end.reason !== undefined && end.reason !== "Error" ? ` (${end.reason})` : "";
  const text = `container ${container} exited with code ${end.exitCode}${why}`;
  const message = end.message?.trim() ? `: ${end.message.trim().slice(0, 2000)}` : "";
  const advice =
    end.reason === "OOMKilled"
      ? " It ran out of memory: raise resources.limits.memory (and requests.memory) or make it use less."
      : "";
  return `${text}${message}.${advice}`;
}
