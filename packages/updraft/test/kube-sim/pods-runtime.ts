/**
 * The kubelet and scheduler of one simulated node: each Pod's containers run as local processes,
 * and the Pod's status moves as a real one's does (Pending → Running → Succeeded/Failed), with the
 * waiting reasons and Events a real node reports. Scheduling, deletion and node faults
 * (OOMKilled, eviction, unschedulable, activeDeadlineSeconds) are here; each container's
 * lifecycle is the Kubelet's (kubelet.ts).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordEvent } from "./events.js";
import type { Faults } from "./faults.js";
import { Kubelet, NODE_NAME, type RuntimeOptions } from "./kubelet.js";
import { type ContainerRun, isRunning, newPodRun, podPhase, type PodRun } from "./pod-status.js";
import { signalGroup } from "./processes.js";
import { nowSeconds, type Store } from "./store.js";
import type { KubeObject } from "./types.js";

export class PodRuntime extends Kubelet {
  private readonly runs = new Map<string, PodRun>();
  private ipCounter = 1;

  constructor(
    store: Store,
    faults: Faults,
    options: RuntimeOptions,
    /** Called once a deleted Pod is gone from the store (owner-reference garbage collection). */
    private readonly onPodGone: (pod: KubeObject) => void,
  ) {
    super(store, faults, options);
    faults.onChange(() => {
      for (const run of this.runs.values()) {
        if (run.unschedulable !== undefined) this.later(run, 0, () => this.schedule(run));
        this.applyRunningFaults(run);
      }
    });
  }

  /** A Pod was created: schedule it and start its containers. */
  admit(pod: KubeObject): void {
    const n = this.ipCounter++;
    const run = newPodRun(
      pod,
      mkdtempSync(join(tmpdir(), "kube-sim-pod-")),
      `10.244.${Math.floor(n / 250)}.${(n % 250) + 2}`,
    );
    this.runs.set(key(run.namespace, run.name), run);
    this.later(run, 0, () => this.schedule(run));
  }

  /** The log of a container (the previous one's with `previous`), for the log endpoint. */
  container(namespace: string, pod: string, name: string): ContainerRun | undefined {
    const run = this.runs.get(key(namespace, pod));
    return run === undefined ? undefined : [...run.init, ...run.main].find((c) => c.name === name);
  }

  /**
   * A Pod was deleted (deletionTimestamp set): its processes get SIGTERM, then SIGKILL after the
   * grace period; it leaves the store once none runs. False when this node does not know the Pod.
   */
  terminate(namespace: string, name: string, graceSeconds: number): boolean {
    const run = this.runs.get(key(namespace, name));
    if (run === undefined) return false;
    run.deleting = true;
    for (const t of run.timers) clearTimeout(t);
    run.timers.clear();
    const running = [...run.init, ...run.main].filter((c) => c.child !== undefined && isRunning(c));
    if (running.length === 0) {
      this.finish(run);
      return true;
    }
    const pod = this.store.get("pods", namespace, name);
    for (const c of running) {
      c.killReason = "Deleted";
      if (pod !== undefined) this.event(pod, "Normal", "Killing", `Stopping container ${c.name}`, c);
      signalGroup(c.child!, graceSeconds === 0 ? "SIGKILL" : "SIGTERM");
    }
    const graceMs = Math.min(graceSeconds * 1000, this.options.maxGraceMs);
    if (graceSeconds > 0) {
      const timer = setTimeout(() => running.forEach((c) => signalGroup(c.child!, "SIGKILL")), graceMs);
      run.timers.add(timer);
    }
    return true;
  }

  /** Every Pod's processes killed, their folders removed. */
  async close(): Promise<void> {
    this.closed = true;
    for (const run of this.runs.values()) {
      for (const t of run.timers) clearTimeout(t);
      for (const c of [...run.init, ...run.main]) if (c.child !== undefined) signalGroup(c.child, "SIGKILL");
    }
    await Promise.race([Promise.all(this.exits), new Promise((r) => setTimeout(r, 5000).unref())]);
    for (const run of this.runs.values()) rmSync(run.dir, { recursive: true, force: true });
    this.runs.clear();
  }

  private schedule(run: PodRun): void {
    const pod = this.store.get("pods", run.namespace, run.name);
    if (pod === undefined || run.deleting || run.scheduled) return;
    const fault = this.faults.podFault("Unschedulable", pod);
    if (fault !== undefined) {
      const message =
        fault.message ??
        "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod.";
      if (run.unschedulable === undefined) {
        run.unschedulable = message;
        this.publish(run);
        recordEvent(this.store, pod, "Warning", "FailedScheduling", message, {
          component: "default-scheduler",
        });
      }
      return;
    }
    delete run.unschedulable;
    run.scheduled = true;
    run.startTime = nowSeconds();
    const deadline = (pod.spec as { activeDeadlineSeconds?: number }).activeDeadlineSeconds;
    if (deadline !== undefined) {
      this.later(run, deadline * 1000, () =>
        this.failPod(
          run,
          "DeadlineExceeded",
          "Pod was active on the node longer than the specified deadline",
        ),
      );
    }
    this.publish(run);
    recordEvent(
      this.store,
      pod,
      "Normal",
      "Scheduled",
      `Successfully assigned ${run.namespace}/${run.name} to ${NODE_NAME}`,
      {
        component: "default-scheduler",
      },
    );
    this.later(run, this.options.startDelayMs, () => this.startNext(run));
  }

  /** OOMKilled and eviction faults on containers that are running now. */
  protected applyRunningFaults(run: PodRun): void {
    const pod = this.store.get("pods", run.namespace, run.name);
    if (pod === undefined || run.deleting) return;
    const oom = this.faults.podFault("OOMKilled", pod);
    if (oom !== undefined) {
      for (const c of [...run.init, ...run.main]) {
        if (
          !isRunning(c) ||
          c.killReason !== undefined ||
          (oom.container !== undefined && oom.container !== c.name)
        )
          continue;
        c.killReason = "OOMKilled";
        this.later(run, oom.afterMs ?? 100, () => signalGroup(c.child!, "SIGKILL"));
      }
    }
    const evict = this.faults.podFault("Evicted", pod);
    if (evict !== undefined && !run.failing && [...run.init, ...run.main].some(isRunning)) {
      run.failing = true;
      const message =
        evict.message ??
        "The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki.";
      this.later(run, evict.afterMs ?? 100, () => this.failPod(run, "Evicted", message));
    }
  }

  /** The node fails the whole Pod: every process killed, phase Failed with this reason. */
  private failPod(run: PodRun, reason: string, message: string): void {
    const pod = this.store.get("pods", run.namespace, run.name);
    if (pod === undefined || run.deleting || run.failure !== undefined || podPhase(run) === "Succeeded")
      return;
    run.failure = { reason, message };
    recordEvent(this.store, pod, "Warning", reason, message);
    for (const c of [...run.init, ...run.main]) {
      if (c.child !== undefined && isRunning(c)) {
        c.killReason = "PodFailed";
        signalGroup(c.child, "SIGKILL");
      }
    }
    this.publish(run);
  }

  /** A deleted Pod whose processes all ended leaves the store (DELETED) and its folder goes. */
  protected finish(run: PodRun): void {
    for (const t of run.timers) clearTimeout(t);
    this.runs.delete(key(run.namespace, run.name));
    rmSync(run.dir, { recursive: true, force: true });
    const pod = this.store.get("pods", run.namespace, run.name);
    if (pod === undefined) return;
    const gone = this.store.remove("pods", run.namespace, run.name);
    this.onPodGone(gone);
  }
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
