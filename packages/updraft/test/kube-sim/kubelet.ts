/**
 * The kubelet's part for one container: pull (or fail to), configure (or wait for a Secret),
 * start its process, record how it ended, and restart it as the Pod's restartPolicy says. The Pod-wide
 * part (scheduling, deletion, node faults) is PodRuntime's, which extends this.
 */
import { recordEvent, type EventType } from "./events.js";
import type { Faults } from "./faults.js";
import { prepareLaunch } from "./launch.js";
import { LogBuffer } from "./logs.js";
import { buildStatus, type ContainerRun, isRunning, isTerminated, type PodRun } from "./pod-status.js";
import { ContainerConfigError } from "./container-config.js";
import { runProcess, signalNumber } from "./processes.js";
import { prepareVolumes } from "./volumes.js";
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
  /**
   * The simulator's kubeconfig, given to every container as KUBECONFIG (unless its env sets one):
   * the stand-in for the service account token and KUBERNETES_SERVICE_HOST a real kubelet gives a
   * Pod, which the official client's loadFromDefault() would use in a cluster. Without it, a task
   * in a Pod that itself talks to the cluster (a KubernetesPodOperator under the
   * KubernetesExecutor) would find no cluster.
   */
  podKubeconfig?: string;
}

export abstract class Kubelet {
  protected readonly exits = new Set<Promise<void>>();
  protected closed = false;

  constructor(
    protected readonly store: Store,
    protected readonly faults: Faults,
    protected readonly options: RuntimeOptions,
  ) {}

  /** A deleted Pod whose processes all ended leaves the store. */
  protected abstract finish(run: PodRun): void;
  /** Node faults (OOMKilled, eviction) on what runs now. */
  protected abstract applyRunningFaults(run: PodRun): void;

  /** Starts the next init container, or all main containers once the init containers are done. */
  protected startNext(run: PodRun): void {
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

  protected start(run: PodRun, c: ContainerRun): void {
    const pod = this.store.get("pods", run.namespace, run.name);
    if (pod === undefined || run.deleting || this.closed) return;
    const launch = prepareLaunch(
      pod,
      c.spec,
      run.volumes!,
      run.dir,
      this.options.images,
      this.faults,
      this.store,
    );
    if (launch.kind === "pull-failed") {
      this.pullFailed(run, pod, c, launch.image);
      return;
    }
    if (launch.kind === "config-error") {
      c.state = { waiting: { reason: "CreateContainerConfigError", message: launch.message } };
      this.publish(run);
      this.event(pod, "Warning", "Failed", `Error: ${launch.message}`, c);
      this.later(run, this.options.retryMs, () => this.start(run, c));
      return;
    }
    const { argv, env, cwd } = launch;
    if (this.options.podKubeconfig !== undefined && env.KUBECONFIG === undefined)
      env.KUBECONFIG = this.options.podKubeconfig;
    this.event(
      pod,
      "Normal",
      "Pulled",
      `Container image "${c.spec.image ?? ""}" already present on machine`,
      c,
    );
    if (argv.length === 0) {
      this.startFailed(run, pod, c, "no command specified");
      return;
    }
    const startedAt = nowSeconds();
    const { child, exited } = runProcess(argv, env, cwd, c.log, (code, signal, spawnError) => {
      if (spawnError !== undefined) this.startFailed(run, pod, c, spawnError);
      else this.exited(run, c, code, signal, startedAt);
    });
    c.child = child;
    this.exits.add(exited);
    void exited.then(() => this.exits.delete(exited));
    if (child.pid === undefined) return; // spawn failed: "close" reports it
    c.state = { running: { startedAt } };
    this.event(pod, "Normal", "Created", `Created container ${c.name}`, c);
    this.event(pod, "Normal", "Started", `Started container ${c.name}`, c);
    this.publish(run);
    this.applyRunningFaults(run);
  }

  /** A container that could not start: StartError, exit code 128, as containerd reports it. */
  protected startFailed(run: PodRun, pod: KubeObject, c: ContainerRun, why: string): void {
    const message = `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: exec: ${why}`;
    c.log.end();
    this.event(pod, "Warning", "Failed", `Error: ${message}`, c);
    this.finished(run, c, { exitCode: 128, reason: "StartError", message, finishedAt: nowSeconds() });
  }

  protected pullFailed(run: PodRun, pod: KubeObject, c: ContainerRun, image: string): void {
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

  protected exited(
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

  protected finished(
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
      run.failure === undefined &&
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
  protected restart(run: PodRun, c: ContainerRun): void {
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
      delete c.killReason;
      c.previousLog = c.log;
      c.log = new LogBuffer();
      this.start(run, c);
    });
  }

  protected publish(run: PodRun): void {
    this.store.mutate("pods", run.namespace, run.name, (pod) => {
      if (run.scheduled) (pod.spec as { nodeName?: string }).nodeName = NODE_NAME;
      pod.status = buildStatus(run);
    });
  }

  protected event(pod: KubeObject, type: EventType, reason: string, message: string, c?: ContainerRun): void {
    const fieldPath =
      c === undefined ? undefined : `spec.${c.init ? "initContainers" : "containers"}{${c.name}}`;
    recordEvent(this.store, pod, type, reason, message, fieldPath === undefined ? {} : { fieldPath });
  }

  protected later(run: PodRun, ms: number, f: () => void): void {
    const timer = setTimeout(() => {
      run.timers.delete(timer);
      if (!this.closed) f();
    }, ms);
    run.timers.add(timer);
  }
}
