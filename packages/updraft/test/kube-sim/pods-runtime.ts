/**
 * The kubelet and scheduler of one simulated node: each Pod's containers run as local processes,
 * and the Pod's status moves as a real one's does (Pending → Running → Succeeded/Failed), with the
 * waiting reasons and Events a real node reports. Pod faults (OOMKilled, eviction, unschedulable,
 * pull failures) are applied here.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordEvent, type EventType } from "./events.js";
import type { Faults } from "./faults.js";
import { resolveImage } from "./images.js";
import { LogBuffer } from "./logs.js";
import {
  buildStatus,
  type ContainerRun,
  initialized,
  isRunning,
  isTerminated,
  podPhase,
  type PodRun,
  qosClass,
} from "./pod-status.js";
import {
  ContainerConfigError,
  type ContainerSpec,
  containerArgv,
  containerEnv,
  localArgv,
  mountMap,
  prepareVolumes,
  rewritePaths,
  signalGroup,
  spawnContainer,
} from "./processes.js";
import { nowSeconds, type Store } from "./store.js";
import type { ImageSpec, KubeObject } from "./types.js";

export const NODE_NAME = "kube-sim-node";

export interface RuntimeOptions {
  images: Record<string, ImageSpec>;
  startDelayMs: number;
  /** Upper bound on a deleted Pod's grace period, so that tests never wait 30 s. */
  maxGraceMs: number;
  /** Delay before retrying what failed (image pull, missing Secret), and the first restart back-off. */
  retryMs: number;
}

export class PodRuntime {
  private readonly runs = new Map<string, PodRun>();
  private readonly exits = new Set<Promise<void>>();
  private ipCounter = 1;
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly faults: Faults,
    private readonly options: RuntimeOptions,
    /** Called once a deleted Pod is gone from the store (owner-reference garbage collection). */
    private readonly onPodGone: (pod: KubeObject) => void,
  ) {
    faults.onChange(() => {
      for (const run of this.runs.values()) {
        if (run.unschedulable !== undefined) this.later(run, 0, () => this.schedule(run));
        this.applyRunningFaults(run);
      }
    });
  }

  /** A Pod was created: schedule it and start its containers. */
  admit(pod: KubeObject): void {
    const spec = pod.spec as { containers: ContainerSpec[]; initContainers?: ContainerSpec[] };
    const container = (c: ContainerSpec, init: boolean): ContainerRun => ({
      name: c.name,
      init,
      spec: c,
      state: { waiting: { reason: init ? "PodInitializing" : "ContainerCreating" } },
      lastState: {},
      restartCount: 0,
      log: new LogBuffer(),
      pendingRestart: false,
      pullAttempts: 0,
    });
    const hasInit = (spec.initContainers ?? []).length > 0;
    const run: PodRun = {
      namespace: pod.metadata.namespace!,
      name: pod.metadata.name,
      uid: pod.metadata.uid,
      dir: mkdtempSync(join(tmpdir(), "kube-sim-pod-")),
      podIP: `10.244.${Math.floor(this.ipCounter / 250)}.${(this.ipCounter++ % 250) + 2}`,
      qosClass: qosClass([...(spec.initContainers ?? []), ...spec.containers]),
      init: (spec.initContainers ?? []).map((c) => container(c, true)),
      main: spec.containers.map((c) => {
        const r = container(c, false);
        if (hasInit) r.state = { waiting: { reason: "PodInitializing" } };
        return r;
      }),
      scheduled: false,
      initFailed: false,
      deleting: false,
      timers: new Set(),
      conditionTimes: new Map(),
    };
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
   * grace period; it leaves the store once none runs.
   */
  terminate(namespace: string, name: string, graceSeconds: number): void {
    const run = this.runs.get(key(namespace, name));
    if (run === undefined) return;
    run.deleting = true;
    for (const t of run.timers) clearTimeout(t);
    run.timers.clear();
    const running = [...run.init, ...run.main].filter((c) => c.child !== undefined && isRunning(c));
    if (running.length === 0) {
      this.finish(run);
      return;
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

  /** Starts the next init container, or all main containers once the init containers are done. */
  private startNext(run: PodRun): void {
    if (run.deleting || this.closed) return;
    if (run.volumes === undefined) {
      const pod = this.store.get("pods", run.namespace, run.name);
      if (pod === undefined) return;
      try {
        run.volumes = prepareVolumes(pod, run.dir, this.store);
      } catch (err) {
        if (!(err instanceof ContainerConfigError)) throw err;
        this.event(pod, "Warning", "FailedMount", err.message);
        this.later(run, this.options.retryMs, () => this.startNext(run));
        return;
      }
    }
    const nextInit = run.init.find((c) => !isTerminated(c));
    if (nextInit !== undefined) {
      if (!isRunning(nextInit) && !nextInit.pendingRestart) this.start(run, nextInit);
      return;
    }
    for (const c of run.main) if ("waiting" in c.state && !c.pendingRestart) this.start(run, c);
  }

  private start(run: PodRun, c: ContainerRun): void {
    const pod = this.store.get("pods", run.namespace, run.name);
    if (pod === undefined || run.deleting || this.closed) return;
    const retry = () => this.later(run, this.options.retryMs, () => this.start(run, c));
    const imageName = c.spec.image ?? "";
    const image = resolveImage(this.options.images, imageName);
    if (image === undefined || this.faults.imagePullFails(imageName)) {
      this.pullFailed(run, pod, c, imageName);
      return;
    }
    let env: Record<string, string>;
    try {
      env = containerEnv(pod, c.spec, this.store);
    } catch (err) {
      if (!(err instanceof ContainerConfigError)) throw err;
      c.state = { waiting: { reason: "CreateContainerConfigError", message: err.message } };
      this.publish(run);
      this.event(pod, "Warning", "Failed", `Error: ${err.message}`, c);
      retry();
      return;
    }
    const mounts = mountMap(c.spec, run.volumes!);
    const rewrite = (s: string) => rewritePaths(s, mounts);
    for (const k of Object.keys(env)) env[k] = rewrite(env[k]!);
    env.HOSTNAME = run.name;
    env.KUBE_SIM_MOUNTS = JSON.stringify(Object.fromEntries(mounts));
    const argv = localArgv(containerArgv(c.spec, image, env).map(rewrite), image);
    const cwd = c.spec.workingDir === undefined ? run.dir : rewrite(c.spec.workingDir);
    this.event(pod, "Normal", "Pulled", `Container image "${imageName}" already present on machine`, c);
    if (argv.length === 0) {
      this.startFailed(run, pod, c, "no command specified");
      return;
    }
    const child = spawnContainer(argv, env, cwd);
    c.child = child;
    const startedAt = nowSeconds();
    let spawnError: Error | undefined;
    child.on("error", (err) => (spawnError = err));
    child.stdout!.setEncoding("utf8").on("data", (d: string) => c.log.write(d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => c.log.write(d));
    const exited = new Promise<void>((resolve) =>
      child.on("close", (code, signal) => {
        this.exits.delete(exited);
        resolve();
        if (spawnError !== undefined && child.pid === undefined) {
          this.startFailed(run, pod, c, spawnError.message);
          return;
        }
        this.exited(run, c, code, signal, startedAt);
      }),
    );
    this.exits.add(exited);
    if (child.pid === undefined) return; // spawn failed: "close" reports it
    c.state = { running: { startedAt } };
    this.event(pod, "Normal", "Created", `Created container ${c.name}`, c);
    this.event(pod, "Normal", "Started", `Started container ${c.name}`, c);
    this.publish(run);
    this.applyRunningFaults(run);
  }

  /** A container that could not start: StartError, exit code 128, as containerd reports it. */
  private startFailed(run: PodRun, pod: KubeObject, c: ContainerRun, why: string): void {
    const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: ${why}`;
    c.log.end();
    this.event(pod, "Warning", "Failed", `Error: ${message}`, c);
    this.finished(run, c, { exitCode: 128, reason: "StartError", message, finishedAt: nowSeconds() });
  }

  private pullFailed(run: PodRun, pod: KubeObject, c: ContainerRun, image: string): void {
    const message = `Failed to pull image "${image}": rpc error: code = NotFound desc = failed to pull and unpack image "${image}": not found`;
    c.state = { waiting: { reason: "ErrImagePull", message } };
    this.publish(run);
    this.event(pod, "Normal", "Pulling", `Pulling image "${image}"`, c);
    this.event(pod, "Warning", "Failed", message, c);
    this.later(run, Math.max(50, this.options.retryMs / 4), () => {
      c.state = { waiting: { reason: "ImagePullBackOff", message: `Back-off pulling image "${image}"` } };
      this.publish(run);
      this.event(pod, "Normal", "BackOff", `Back-off pulling image "${image}"`, c);
      const backoff = Math.min(this.options.retryMs * 2 ** c.pullAttempts, this.options.retryMs * 16);
      c.pullAttempts++;
      this.later(run, backoff, () => this.start(run, c));
    });
  }

  private exited(
    run: PodRun,
    c: ContainerRun,
    code: number | null,
    signal: NodeJS.Signals | null,
    startedAt: string,
  ): void {
    c.log.end();
    const exitCode = code ?? 128 + signalNumber(signal);
    const reason = c.killReason === "OOMKilled" ? "OOMKilled" : exitCode === 0 ? "Completed" : "Error";
    this.finished(run, c, {
      exitCode,
      reason,
      startedAt,
      finishedAt: nowSeconds(),
      ...(c.child?.pid === undefined ? {} : { containerID: `sim://${c.child.pid}` }),
    });
  }

  private finished(
    run: PodRun,
    c: ContainerRun,
    terminated: {
      exitCode: number;
      reason: string;
      message?: string;
      startedAt?: string;
      finishedAt: string;
      containerID?: string;
    },
  ): void {
    c.state = { terminated };
    if (this.closed) return;
    if (run.deleting) {
      this.publish(run);
      if (![...run.init, ...run.main].some((x) => isRunning(x))) this.finish(run);
      return;
    }
    const policy =
      (this.store.get("pods", run.namespace, run.name)?.spec as { restartPolicy?: string } | undefined)
        ?.restartPolicy ?? "Always";
    const failed = terminated.exitCode !== 0;
    const restart =
      run.evicted === undefined &&
      (policy === "Always" ? !c.init || failed : policy === "OnFailure" && failed);
    if (restart) {
      this.restart(run, c);
    } else if (c.init && failed) {
      run.initFailed = true;
    }
    this.publish(run);
    if (c.init && !failed && !restart) this.startNext(run);
  }

  /** CrashLoopBackOff: the container waits with a doubling back-off, then runs again with a fresh log. */
  private restart(run: PodRun, c: ContainerRun): void {
    const delay = Math.min(this.options.retryMs * 2 ** c.restartCount, this.options.retryMs * 16);
    c.lastState = c.state;
    c.restartCount++;
    c.pendingRestart = true;
    c.state = {
      waiting: {
        reason: "CrashLoopBackOff",
        message: `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.name} pod=${run.name}_${run.namespace}(${run.uid})`,
      },
    };
    this.later(run, delay, () => {
      c.pendingRestart = false;
      c.previousLog = c.log;
      c.log = new LogBuffer();
      this.start(run, c);
    });
  }

  /** OOMKilled and eviction faults on containers that are running now. */
  private applyRunningFaults(run: PodRun): void {
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
    if (evict !== undefined && run.evicted === undefined && [...run.init, ...run.main].some(isRunning)) {
      const message =
        evict.message ??
        "The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki.";
      this.later(run, evict.afterMs ?? 100, () => {
        run.evicted = message;
        recordEvent(this.store, pod, "Warning", "Evicted", message);
        for (const c of [...run.init, ...run.main]) {
          if (c.child !== undefined && isRunning(c)) {
            c.killReason = "Evicted";
            signalGroup(c.child, "SIGKILL");
          }
        }
        this.publish(run);
      });
    }
  }

  /** A deleted Pod whose processes all ended leaves the store (DELETED) and its folder goes. */
  private finish(run: PodRun): void {
    for (const t of run.timers) clearTimeout(t);
    this.runs.delete(key(run.namespace, run.name));
    rmSync(run.dir, { recursive: true, force: true });
    const pod = this.store.get("pods", run.namespace, run.name);
    if (pod === undefined) return;
    const gone = this.store.remove("pods", run.namespace, run.name);
    this.onPodGone(gone);
  }

  private publish(run: PodRun): void {
    this.store.mutate("pods", run.namespace, run.name, (pod) => {
      if (run.scheduled) (pod.spec as { nodeName?: string }).nodeName = NODE_NAME;
      pod.status = buildStatus(run);
    });
  }

  private event(pod: KubeObject, type: EventType, reason: string, message: string, c?: ContainerRun): void {
    const fieldPath =
      c === undefined ? undefined : `spec.${c.init ? "initContainers" : "containers"}{${c.name}}`;
    recordEvent(this.store, pod, type, reason, message, fieldPath === undefined ? {} : { fieldPath });
  }

  private later(run: PodRun, ms: number, f: () => void): void {
    const timer = setTimeout(() => {
      run.timers.delete(timer);
      if (!this.closed) f();
    }, ms);
    run.timers.add(timer);
  }
}

export { initialized, podPhase };

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = {
    SIGHUP: 1,
    SIGINT: 2,
    SIGKILL: 9,
    SIGTERM: 15,
    SIGSEGV: 11,
    SIGABRT: 6,
  };
  return signal === null ? 0 : (numbers[signal] ?? 0);
}
