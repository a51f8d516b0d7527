// The Pods this executor answers for, by name: what it last saw of each, and where each is in its
// end (reported to the scheduler, being deleted or labelled done).
import type { V1Pod } from "@kubernetes/client-node";
import { podKeyFromAnnotations, type PodKey } from "./pod-identity.js";

export interface TrackedPod {
  name: string;
  /** The Pod's uid: a Pod created anew under the same name is another Pod. */
  uid: string | undefined;
  key: PodKey;
  /** The phase last seen. */
  phase: string;
  /** The Pod as last seen. */
  last: V1Pod;
  /** When the API server created the Pod (epoch ms), for the pending timeout. */
  createdAt: number | null;
  /** Local time (performance.now) the Pod was last seen, to tell a stale list from a deletion. */
  seenAt: number;
  /** Its end was reported to the scheduler (finished or lost). */
  reported: boolean;
  /** Its deletion was asked for (by this executor). */
  deleting: boolean;
  /** A delete or a done label is in flight. */
  settling: boolean;
  /** The pending timeout's look at the Pod is in flight. */
  checking: boolean;
}

function epochMs(v: unknown): number | null {
  if (v instanceof Date) return v.getTime();
  if (typeof v === "string") {
    const t = Date.parse(v);
    return Number.isNaN(t) ? null : t;
  }
  return null;
}

/**
 * Whether `a` is an older version of the Pod than `b`. resourceVersions are opaque to clients, but
 * every API server in use (etcd's revisions) makes them integers; anything else counts as newer.
 */
function older(a: V1Pod, b: V1Pod): boolean {
  const x = a.metadata?.resourceVersion;
  const y = b.metadata?.resourceVersion;
  if (x === undefined || y === undefined || !/^\d+$/.test(x) || !/^\d+$/.test(y)) return false;
  return BigInt(x) < BigInt(y);
}

export class PodTracker {
  private readonly pods = new Map<string, TrackedPod>();

  get(name: string): TrackedPod | undefined {
    return this.pods.get(name);
  }

  all(): TrackedPod[] {
    return [...this.pods.values()];
  }

  /** Stops tracking `t` (when given: only if that entry is still the one tracked under its name). */
  forget(name: string, t?: TrackedPod): void {
    if (t === undefined || this.pods.get(name) === t) this.pods.delete(name);
  }

  /** Pods whose try is not over: they hold executor slots. */
  active(): number {
    let n = 0;
    for (const t of this.pods.values()) if (!t.reported) n++;
    return n;
  }

  /** Records what a Pod looks like now; null when it is not a worker Pod (no identity). */
  see(pod: V1Pod): TrackedPod | null {
    const name = pod.metadata?.name;
    if (name === undefined) return null;
    const existing = this.pods.get(name);
    const phase = pod.status?.phase ?? "Pending";
    const uid = pod.metadata?.uid;
    if (existing !== undefined && uid !== undefined && existing.uid !== undefined && uid !== existing.uid) {
      // Another Pod of the same name (a try's Pod replaced): the older one's news are stale.
      if (older(pod, existing.last)) return null;
      this.pods.delete(name);
      return this.see(pod);
    }
    if (existing !== undefined) {
      // A create's answer can arrive after the watch showed a newer version of the Pod.
      if (older(pod, existing.last)) return existing;
      existing.uid ??= uid;
      existing.phase = phase;
      existing.last = pod;
      existing.seenAt = performance.now();
      existing.createdAt ??= epochMs(pod.metadata?.creationTimestamp);
      return existing;
    }
    const key = podKeyFromAnnotations(pod.metadata?.annotations);
    if (key === null) return null;
    const t: TrackedPod = {
      name,
      uid,
      key,
      phase,
      last: pod,
      createdAt: epochMs(pod.metadata?.creationTimestamp) ?? Date.now(),
      seenAt: performance.now(),
      reported: false,
      deleting: false,
      settling: false,
      checking: false,
    };
    this.pods.set(name, t);
    return t;
  }
}
