/**
 * Injectable faults. Pod faults persist until removed (they apply to Pods created later too);
 * API faults count down and remove themselves; WatchDisconnect and CompactHistory act at once.
 */
import { labelSelector } from "./selectors.js";
import type { KubeObject } from "./types.js";

export type Fault =
  /** Pulling this image fails (exact "repo:tag" or "repo" for any tag): ErrImagePull, then ImagePullBackOff. */
  | { type: "ImagePullFailure"; image: string }
  /** Containers of matching Pods are killed once running: terminated, reason OOMKilled, exit code 137. */
  | { type: "OOMKilled"; labelSelector: string; container?: string; afterMs?: number }
  /** Matching Pods are evicted once running: processes killed, phase Failed, reason Evicted. */
  | { type: "Evicted"; labelSelector: string; afterMs?: number; message?: string }
  /** Matching Pods (all without a selector) stay Pending: PodScheduled=False, reason Unschedulable. */
  | { type: "Unschedulable"; labelSelector?: string; message?: string }
  /**
   * The next `count` (default 1) requests whose method and path+query match get `status` (default
   * 500) as a Status with the reason and wording of that code (403 Forbidden names the verb and
   * namespace as RBAC does), or `message`.
   */
  | {
      type: "ApiError";
      method?: string;
      path: RegExp | string;
      count?: number;
      status?: number;
      message?: string;
    }
  /** The next `count` (default 1) matching requests hang (no response) until the client gives up. */
  | { type: "ApiTimeout"; method?: string; path: RegExp | string; count?: number }
  /** Closes the open watch streams now (those whose path+query matches `path`, when given). */
  | { type: "WatchDisconnect"; path?: RegExp | string }
  /** Compacts the watch history now: watching from an older resourceVersion gets 410 Gone. */
  | { type: "CompactHistory" };

type PodFault = Extract<Fault, { type: "OOMKilled" | "Evicted" | "Unschedulable" }>;

interface ApiEntry {
  fault: Extract<Fault, { type: "ApiError" | "ApiTimeout" }>;
  remaining: number;
}

export type ApiFaultHit = { kind: "error"; status: number; message?: string } | { kind: "timeout" };

export class Faults {
  private readonly pullFailures = new Set<string>();
  private readonly podFaults = new Set<PodFault>();
  private readonly api = new Set<ApiEntry>();
  private readonly listeners = new Set<() => void>();

  /** Adds a persistent or counted fault; one-shot faults are handled by the caller. */
  add(fault: Exclude<Fault, { type: "WatchDisconnect" | "CompactHistory" }>): () => void {
    let remove: () => void;
    switch (fault.type) {
      case "ImagePullFailure":
        this.pullFailures.add(fault.image);
        remove = () => this.pullFailures.delete(fault.image);
        break;
      case "OOMKilled":
      case "Evicted":
      case "Unschedulable":
        this.podFaults.add(fault);
        remove = () => this.podFaults.delete(fault);
        break;
      case "ApiError":
      case "ApiTimeout": {
        const entry = { fault, remaining: fault.count ?? 1 };
        this.api.add(entry);
        remove = () => this.api.delete(entry);
        break;
      }
    }
    this.changed();
    return () => {
      remove();
      this.changed();
    };
  }

  /** Called when faults change: the runtime retries what a removed fault held back. */
  onChange(listener: () => void): void {
    this.listeners.add(listener);
  }

  imagePullFails(image: string): boolean {
    return this.pullFailures.has(image) || this.pullFailures.has(imageRepo(image));
  }

  podFault<T extends PodFault["type"]>(type: T, pod: KubeObject): Extract<PodFault, { type: T }> | undefined {
    for (const f of this.podFaults) {
      if (f.type === type && labelSelector(f.labelSelector).call(undefined, pod)) {
        return f as Extract<PodFault, { type: T }>;
      }
    }
    return undefined;
  }

  /** Takes one API fault for this request, if one matches. */
  takeApi(method: string, pathAndQuery: string): ApiFaultHit | undefined {
    for (const entry of this.api) {
      const f = entry.fault;
      if (f.method !== undefined && f.method.toUpperCase() !== method.toUpperCase()) continue;
      if (!matchesPath(f.path, pathAndQuery)) continue;
      entry.remaining--;
      if (entry.remaining <= 0) this.api.delete(entry);
      if (f.type === "ApiTimeout") return { kind: "timeout" };
      return {
        kind: "error",
        status: f.status ?? 500,
        ...(f.message === undefined ? {} : { message: f.message }),
      };
    }
    return undefined;
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}

export function matchesPath(pattern: RegExp | string, pathAndQuery: string): boolean {
  return typeof pattern === "string" ? new RegExp(pattern).test(pathAndQuery) : pattern.test(pathAndQuery);
}

/** "repo:tag" → "repo", keeping a registry's port ("host:5000/repo:tag" → "host:5000/repo"). */
export function imageRepo(image: string): string {
  const noDigest = image.split("@")[0]!;
  const slash = noDigest.lastIndexOf("/");
  const colon = noDigest.lastIndexOf(":");
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}
