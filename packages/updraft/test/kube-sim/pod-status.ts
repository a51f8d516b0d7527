/** A Pod's status as the kubelet reports it, built from the simulator's view of its containers. */
import type { ChildProcess } from "node:child_process";
import { LogBuffer } from "./logs.js";
import type { ContainerSpec } from "./container-config.js";
import { nowSeconds } from "./store.js";
import type { KubeObject } from "./types.js";

export type ContainerState =
  | { waiting: { reason: string; message?: string } }
  | { running: { startedAt: string } }
  | {
      terminated: {
        exitCode: number;
        reason: string;
        message?: string;
        signal?: number;
        startedAt?: string;
        finishedAt: string;
        containerID?: string;
      };
    };

export interface ContainerRun {
  name: string;
  init: boolean;
  spec: ContainerSpec;
  state: ContainerState;
  lastState: ContainerState | Record<string, never>;
  restartCount: number;
  log: LogBuffer;
  previousLog?: LogBuffer;
  child?: ChildProcess;
  /** Why the simulator killed it (the exit code alone cannot tell OOMKilled from a plain kill). */
  killReason?: "OOMKilled" | "PodFailed" | "Deleted";
  /** A restart or retry is scheduled: the container is not finished. */
  pendingRestart: boolean;
  /** Failed pulls so far: the back-off doubles with each, as the kubelet's does. */
  pullAttempts: number;
}

export interface PodRun {
  namespace: string;
  name: string;
  uid: string;
  dir: string;
  podIP: string;
  qosClass: string;
  init: ContainerRun[];
  main: ContainerRun[];
  scheduled: boolean;
  unschedulable?: string;
  startTime?: string;
  initFailed: boolean;
  /** An eviction is on its way (set when scheduled, before `failure`). */
  failing?: boolean;
  /** The node failed the whole Pod (Evicted, DeadlineExceeded): status.reason and status.message. */
  failure?: { reason: string; message: string };
  deleting: boolean;
  timers: Set<NodeJS.Timeout>;
  volumes?: Map<string, string>;
  conditionTimes: Map<string, { status: string; at: string }>;
}

export function isTerminated(c: ContainerRun): boolean {
  return "terminated" in c.state && !c.pendingRestart;
}

export function isRunning(c: ContainerRun): boolean {
  return "running" in c.state;
}

export function initialized(run: PodRun): boolean {
  return run.init.every((c) => "terminated" in c.state && c.state.terminated.exitCode === 0);
}

export function podPhase(run: PodRun): "Pending" | "Running" | "Succeeded" | "Failed" {
  if (run.failure !== undefined || run.initFailed) return "Failed";
  if (!initialized(run)) return "Pending";
  if (run.main.every(isTerminated)) {
    return run.main.every((c) => "terminated" in c.state && c.state.terminated.exitCode === 0)
      ? "Succeeded"
      : "Failed";
  }
  if (run.main.some((c) => isRunning(c) || c.restartCount > 0 || "terminated" in c.state)) return "Running";
  return "Pending";
}

export function buildStatus(run: PodRun): Record<string, unknown> {
  const phase = podPhase(run);
  const status: Record<string, unknown> = { phase };
  const conditions: Record<string, unknown>[] = [];
  const condition = (type: string, value: boolean, reason?: string, message?: string) => {
    const s = value ? "True" : "False";
    const known = run.conditionTimes.get(type);
    const at = known !== undefined && known.status === s ? known.at : nowSeconds();
    run.conditionTimes.set(type, { status: s, at });
    conditions.push({
      type,
      status: s,
      lastProbeTime: null,
      lastTransitionTime: at,
      ...(reason === undefined ? {} : { reason }),
      ...(message === undefined ? {} : { message }),
    });
  };
  if (run.unschedulable !== undefined) {
    condition("PodScheduled", false, "Unschedulable", run.unschedulable);
  } else if (run.scheduled) {
    const done = phase === "Succeeded" || phase === "Failed";
    const notInit = run.init.filter((c) => !("terminated" in c.state && c.state.terminated.exitCode === 0));
    condition(
      "Initialized",
      notInit.length === 0,
      notInit.length === 0 ? undefined : "ContainersNotInitialized",
      notInit.length === 0
        ? undefined
        : `containers with incomplete status: [${notInit.map((c) => c.name).join(" ")}]`,
    );
    const unready = run.main.filter((c) => !isRunning(c));
    const ready = unready.length === 0 && !done;
    const why = done ? "PodCompleted" : "ContainersNotReady";
    const message = `containers with unready status: [${unready.map((c) => c.name).join(" ")}]`;
    condition("Ready", ready, ready ? undefined : why, ready || done ? undefined : message);
    condition("ContainersReady", ready, ready ? undefined : why, ready || done ? undefined : message);
    condition("PodScheduled", true);
    status.hostIP = "127.0.0.1";
    status.hostIPs = [{ ip: "127.0.0.1" }];
    status.podIP = run.podIP;
    status.podIPs = [{ ip: run.podIP }];
    if (run.startTime !== undefined) status.startTime = run.startTime;
    if (run.init.length > 0) status.initContainerStatuses = run.init.map((c) => containerStatus(c));
    status.containerStatuses = run.main.map((c) => containerStatus(c));
  }
  status.conditions = conditions;
  if (run.failure !== undefined) {
    status.reason = run.failure.reason;
    status.message = run.failure.message;
  }
  status.qosClass = run.qosClass;
  return status;
}

function containerStatus(c: ContainerRun): Record<string, unknown> {
  const running = isRunning(c);
  return {
    name: c.name,
    image: c.spec.image ?? "",
    imageID: "",
    ...(c.child?.pid === undefined ? {} : { containerID: `sim://${c.child.pid}` }),
    ready: running && !c.init,
    restartCount: c.restartCount,
    started: running,
    state: c.state,
    lastState: c.lastState,
  };
}

/** Guaranteed when every container's limits equal its requests for cpu and memory; BestEffort without any. */
export function qosClass(containers: ContainerSpec[]): string {
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const limits = c.resources?.limits ?? {};
    const requests = { ...limits, ...(c.resources?.requests ?? {}) };
    for (const r of ["cpu", "memory"]) {
      if (limits[r] !== undefined || requests[r] !== undefined) any = true;
      if (limits[r] === undefined || limits[r] !== requests[r]) guaranteed = false;
    }
  }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

/** The runtime's view of a new Pod: every container waiting (PodInitializing behind init containers). */
export function newPodRun(pod: KubeObject, dir: string, podIP: string): PodRun {
  const spec = pod.spec as { containers: ContainerSpec[]; initContainers?: ContainerSpec[] };
  const inits = spec.initContainers ?? [];
  const container = (c: ContainerSpec, init: boolean): ContainerRun => ({
    name: c.name,
    init,
    spec: c,
    state: { waiting: { reason: init || inits.length > 0 ? "PodInitializing" : "ContainerCreating" } },
    lastState: {},
    restartCount: 0,
    log: new LogBuffer(),
    pendingRestart: false,
    pullAttempts: 0,
  });
  return {
    namespace: pod.metadata.namespace!,
    name: pod.metadata.name,
    uid: pod.metadata.uid,
    dir,
    podIP,
    qosClass: qosClass([...inits, ...spec.containers]),
    init: inits.map((c) => container(c, true)),
    main: spec.containers.map((c) => container(c, false)),
    scheduled: false,
    initFailed: false,
    deleting: false,
    timers: new Set(),
    conditionTimes: new Map(),
  };
}
