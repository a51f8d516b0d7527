// One KubernetesPodOperator try against the API server: create the Pod (a repeated create of the
// same try finds it instead), wait for it to start within the startup timeout, follow the base
// container's log while it runs, collect the XCom sidecar's output, and delete the Pod as asked —
// or at once when the try is killed. Pure API calls through the official client: it runs in any
// task runner, whatever the executor.
import type { CoreV1Api, KubeConfig, V1Pod } from "@kubernetes/client-node";
import { UpdraftError } from "../common/errors.js";
import { apiStatus, kubeApiError } from "./api-errors.js";
import { followContainerLog } from "./log-follow.js";
import {
  HOPELESS_WAITING,
  containerEnd,
  describeWaiting,
  podEnded,
  podStarted,
  waitingReasons,
  type ContainerEnd,
} from "./pod-state.js";
import { withRetries } from "./api-retry.js";
import { sleepUnlessAborted, throwIfAborted } from "./waits.js";

/** Deleting goes on after the try was stopped: its retries wait whatever the try's signal says. */
const NEVER = new AbortController().signal;

export type LogLevel = "INFO" | "WARNING" | "ERROR";

export interface PodRunOptions {
  kc: KubeConfig;
  /** The Pod to create (metadata.name and namespace set). */
  manifest: Record<string, unknown>;
  baseContainer: string;
  /** The XCom sidecar's container name, or null without one. */
  xcomSidecar: string | null;
  getLogs: boolean;
  startupTimeoutMs: number;
  onFinish: "delete_pod" | "delete_succeeded_pod" | "keep_pod";
  /** Selects the Pods of every try of this task instance. */
  instanceSelector: string;
  tryNumber: number;
  signal: AbortSignal;
  log(level: LogLevel, text: string): void;
  /** A line a container wrote. */
  containerLine(container: string, line: string): void;
}

export interface PodRunResult {
  name: string;
  namespace: string;
  end: ContainerEnd;
  /** Lines the XCom sidecar printed (null without a sidecar). */
  sidecarLines: string[] | null;
  phase: string | undefined;
  reason: string | undefined;
  message: string | undefined;
}

/** How long the XCom sidecar may take to print the file once told to stop. */
const SIDECAR_MS = 60_000;

function pollDelay(startedAt: number): number {
  // Quick at first (short tasks end quickly), then gentle on the API server.
  return Date.now() - startedAt < 5000 ? 200 : 1000;
}

export class PodRun {
  private readonly core: CoreV1Api;
  readonly name: string;
  readonly namespace: string;
  private created = false;
  private deleted: Promise<void> | null = null;

  private constructor(
    private readonly o: PodRunOptions,
    core: CoreV1Api,
  ) {
    this.core = core;
    const meta = o.manifest.metadata as { name: string; namespace: string };
    this.name = meta.name;
    this.namespace = meta.namespace;
  }

  static async create(o: PodRunOptions): Promise<PodRun> {
    const k8s = await import("@kubernetes/client-node");
    return new PodRun(o, o.kc.makeApiClient(k8s.CoreV1Api));
  }

  private get ref(): string {
    return `${this.namespace}/${this.name}`;
  }

  async run(): Promise<PodRunResult> {
    try {
      await this.removeStalePods();
      await this.createPod();
      let pod = await this.waitForStart();
      pod = await this.waitForEnd(pod);
      const end = containerEnd(pod, this.o.baseContainer) ?? this.endFromPhase(pod);
      const sidecarLines = this.o.xcomSidecar === null ? null : await this.readSidecar(end.exitCode === 0);
      await this.finish(end.exitCode === 0);
      return {
        name: this.name,
        namespace: this.namespace,
        end,
        sidecarLines,
        phase: pod.status?.phase,
        reason: pod.status?.reason,
        message: pod.status?.message,
      };
    } catch (err) {
      // Killed or failed on the way: a Pod left running would go on using the cluster.
      if (this.created && this.deleted === null) {
        if (this.o.signal.aborted) await this.kill();
        else if (this.o.onFinish === "delete_pod") {
          this.deleted = this.deletePod("the try failed");
          await this.deleted;
        } else this.o.log("INFO", `Keeping Pod ${this.ref} (onFinishAction ${this.o.onFinish}).`);
      }
      throw err;
    }
  }

  /** Deletes the Pod (once; a second call waits for the first). Airflow's on_kill. */
  kill(): Promise<void> {
    if (!this.created) return Promise.resolve();
    this.deleted ??= this.deletePod("the task was stopped");
    return this.deleted;
  }

  private async deletePod(why: string): Promise<void> {
    this.o.log("INFO", `Deleting Pod ${this.ref} (${why}).`);
    try {
      await withRetries(
        () => this.core.deleteNamespacedPod({ name: this.name, namespace: this.namespace }),
        NEVER,
      );
    } catch (err) {
      if (apiStatus(err) === 404) return;
      this.o.log("WARNING", kubeApiError(err, `delete Pod ${this.ref}`, this.namespace).message);
    }
  }

  /** Pods of earlier tries that still run were orphaned by a runner that died: stop them. */
  private async removeStalePods(): Promise<void> {
    let pods: V1Pod[];
    try {
      pods = (
        await withRetries(
          () =>
            this.core.listNamespacedPod({
              namespace: this.namespace,
              labelSelector: this.o.instanceSelector,
            }),
          this.o.signal,
        )
      ).items;
    } catch (err) {
      throw kubeApiError(err, `list the Pods of this task in namespace ${this.namespace}`, this.namespace);
    }
    for (const pod of pods) {
      const name = pod.metadata?.name;
      if (
        name === undefined ||
        name === this.name ||
        podEnded(pod) ||
        pod.metadata?.deletionTimestamp !== undefined
      )
        continue;
      this.o.log(
        "WARNING",
        `Pod ${this.namespace}/${name} of try ${pod.metadata?.labels?.["try_number"] ?? "?"} still runs; deleting it before this try starts its own.`,
      );
      try {
        await withRetries(() => this.core.deleteNamespacedPod({ name, namespace: this.namespace }), NEVER);
      } catch (err) {
        if (apiStatus(err) !== 404)
          this.o.log(
            "WARNING",
            kubeApiError(err, `delete Pod ${this.namespace}/${name}`, this.namespace).message,
          );
      }
    }
  }

  private async createPod(): Promise<void> {
    throwIfAborted(this.o.signal);
    try {
      await withRetries(
        () => this.core.createNamespacedPod({ namespace: this.namespace, body: this.o.manifest as V1Pod }),
        this.o.signal,
      );
      this.created = true;
      this.o.log("INFO", `Created Pod ${this.ref} (image ${this.imageOf()}).`);
    } catch (err) {
      if (apiStatus(err) !== 409) throw kubeApiError(err, `create Pod ${this.ref}`, this.namespace);
      // The same try created it before (its runner was restarted): follow that Pod.
      this.created = true;
      this.o.log("INFO", `Pod ${this.ref} exists already (created earlier by this try); following it.`);
    }
  }

  private imageOf(): string {
    const containers = (this.o.manifest.spec as { containers: { name: string; image?: string }[] })
      .containers;
    return containers.find((c) => c.name === this.o.baseContainer)?.image ?? "?";
  }

  private async readPod(doing: string): Promise<V1Pod> {
    try {
      return await withRetries(
        () => this.core.readNamespacedPod({ name: this.name, namespace: this.namespace }),
        this.o.signal,
      );
    } catch (err) {
      if (apiStatus(err) === 404) {
        throw new UpdraftError(
          "KUBERNETES_POD_FAILED",
          `Pod ${this.ref} disappeared while ${doing}: something else deleted it (kubectl delete, a namespace cleanup, the node's eviction). Run the task again.`,
        );
      }
      throw kubeApiError(err, `read Pod ${this.ref}`, this.namespace);
    }
  }

  /** Polls until the Pod leaves Pending; fails on a hopeless waiting reason or after the startup timeout. */
  private async waitForStart(): Promise<V1Pod> {
    const t0 = Date.now();
    let last: string | undefined;
    // Each reason once: a failing pull flips between ErrImagePull and ImagePullBackOff for as long as it waits.
    const told = new Set<string>();
    for (;;) {
      throwIfAborted(this.o.signal);
      const pod = await this.readPod("it was starting");
      if (podStarted(pod)) return pod;
      const waiting = describeWaiting(pod);
      const reasons = waitingReasons(pod)
        .map((r) => r.reason)
        .join(",");
      if (waiting !== undefined && !told.has(reasons))
        this.o.log("WARNING", `Pod ${this.ref} is waiting: ${waiting}`);
      told.add(reasons);
      last = waiting ?? last;
      const hopeless = (pod.status?.containerStatuses ?? []).find((s) =>
        HOPELESS_WAITING.has(s.state?.waiting?.reason ?? ""),
      );
      if (hopeless !== undefined) {
        throw new UpdraftError(
          "KUBERNETES_POD_FAILED",
          `Pod ${this.ref} cannot start: container ${hopeless.name} is waiting with ${hopeless.state?.waiting?.reason}${hopeless.state?.waiting?.message ? ` (${hopeless.state.waiting.message})` : ""}. Fix the image name.`,
        );
      }
      if (Date.now() - t0 >= this.o.startupTimeoutMs) {
        const seconds = Math.round(this.o.startupTimeoutMs / 1000);
        await this.logWarningEvents();
        throw new UpdraftError(
          "KUBERNETES_POD_START_TIMEOUT",
          `Pod ${this.ref} did not start within startupTimeoutSeconds (${seconds} s): ${last === undefined ? "it is still Pending" : `it is waiting: ${last}`}. ${adviceForWaiting(last)}`,
        );
      }
      await sleepUnlessAborted(pollDelay(t0), this.o.signal);
    }
  }

  /** The Pod's Warning events into the task log (as Airflow's log_events_on_failure): why it waits. */
  private async logWarningEvents(): Promise<void> {
    try {
      const events = await this.core.listNamespacedEvent({
        namespace: this.namespace,
        fieldSelector: `involvedObject.name=${this.name}`,
      });
      const warnings = events.items.filter((e) => e.type === "Warning").slice(-5);
      for (const e of warnings) this.o.log("WARNING", `Pod event ${e.reason ?? ""}: ${e.message ?? ""}`);
    } catch {
      // Events only explain; the timeout is the error.
    }
  }

  /** Follows the base container (and its log) to its end. */
  private async waitForEnd(started: V1Pod): Promise<V1Pod> {
    let settle: (pod: V1Pod) => void = () => undefined;
    let fail: (err: unknown) => void = () => undefined;
    const ended = new Promise<V1Pod>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    ended.catch(() => undefined);
    const poll = (async () => {
      const t0 = Date.now();
      let pod = started;
      for (;;) {
        if (containerEnd(pod, this.o.baseContainer) !== null || podEnded(pod)) return settle(pod);
        throwIfAborted(this.o.signal);
        await sleepUnlessAborted(pollDelay(t0), this.o.signal);
        pod = await this.readPod("it was running");
      }
    })().catch(fail);
    const logs = this.o.getLogs
      ? followContainerLog({
          kc: this.o.kc,
          namespace: this.namespace,
          pod: this.name,
          container: this.o.baseContainer,
          onLine: (line) => this.o.containerLine(this.o.baseContainer, line),
          containerEnded: ended,
          signal: this.o.signal,
          warn: (m) => this.o.log("WARNING", m),
        })
      : Promise.resolve();
    await poll;
    const pod = await ended;
    await logs;
    return pod;
  }

  /** A Pod that ended without its base container's end (evicted, deadline): its reason as the end. */
  private endFromPhase(pod: V1Pod): ContainerEnd {
    return {
      exitCode: pod.status?.phase === "Succeeded" ? 0 : -1,
      reason: pod.status?.reason ?? pod.status?.phase,
      message: pod.status?.message,
      finishedAt: undefined,
    };
  }

  /**
   * Tells the sidecar to print the result file and reads what it prints: deleting the Pod sends it
   * SIGTERM; a Pod that is kept gets a one-second active deadline instead (the kubelet then stops
   * its containers the same way).
   */
  private async readSidecar(succeeded: boolean): Promise<string[]> {
    const sidecar = this.o.xcomSidecar as string;
    const lines: string[] = [];
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    this.o.signal.addEventListener("abort", onAbort, { once: true });
    const sidecarEnded = (async () => {
      for (;;) {
        await sleepUnlessAborted(200, stop.signal).catch(() => undefined);
        if (stop.signal.aborted) return;
        try {
          const pod = await withRetries(
            () => this.core.readNamespacedPod({ name: this.name, namespace: this.namespace }),
            this.o.signal,
          );
          if (containerEnd(pod, sidecar) !== null) return;
        } catch (err) {
          if (apiStatus(err) === 404) return;
        }
      }
    })();
    let opened: () => void = () => undefined;
    const open = new Promise<void>((resolve) => (opened = resolve));
    const reading = followContainerLog({
      kc: this.o.kc,
      namespace: this.namespace,
      pod: this.name,
      container: sidecar,
      onLine: (l) => lines.push(l),
      containerEnded: sidecarEnded,
      signal: stop.signal,
      onOpen: () => opened(),
    });
    // What the sidecar prints as it stops must find the stream open: a stopped Pod's log may be gone.
    await Promise.race([open, reading, sleepUnlessAborted(SIDECAR_MS, this.o.signal)]);
    const deleting =
      this.o.onFinish === "delete_pod" || (this.o.onFinish === "delete_succeeded_pod" && succeeded);
    if (deleting) {
      this.deleted = this.deletePod("finished; the XCom sidecar prints the result as it stops");
      await this.deleted;
    } else {
      const { setHeaderOptions } = await import("@kubernetes/client-node");
      const mergePatch = setHeaderOptions("Content-Type", "application/merge-patch+json");
      try {
        await withRetries(
          () =>
            this.core.patchNamespacedPod(
              { name: this.name, namespace: this.namespace, body: { spec: { activeDeadlineSeconds: 1 } } },
              mergePatch,
            ),
          this.o.signal,
        );
      } catch (err) {
        throw kubeApiError(err, `stop the XCom sidecar of Pod ${this.ref}`, this.namespace);
      }
    }
    const timer = setTimeout(() => stop.abort(), SIDECAR_MS);
    try {
      await reading;
    } finally {
      clearTimeout(timer);
      stop.abort();
      this.o.signal.removeEventListener("abort", onAbort);
    }
    throwIfAborted(this.o.signal);
    return lines;
  }

  private async finish(succeeded: boolean): Promise<void> {
    if (this.deleted !== null) return;
    const action = this.o.onFinish;
    if (action === "delete_pod" || (action === "delete_succeeded_pod" && succeeded)) {
      this.deleted = this.deletePod(succeeded ? "finished" : "finished with a failure");
      await this.deleted;
    } else {
      this.o.log(
        "INFO",
        `Keeping Pod ${this.ref} (onFinishAction ${action}): kubectl -n ${this.namespace} logs ${this.name} -c ${this.o.baseContainer}`,
      );
    }
  }
}

function adviceForWaiting(waiting: string | undefined): string {
  if (waiting === undefined) return "Look at its events: kubectl describe pod.";
  if (/ErrImagePull|ImagePullBackOff|InvalidImageName/.test(waiting))
    return "Check the image name and tag, and that the cluster may pull it (imagePullSecrets).";
  if (/Unschedulable/.test(waiting))
    return "No node fits its requests, node selector and tolerations: lower the requests or add capacity.";
  return "Raise startupTimeoutSeconds if it only needs longer; else look at its events (kubectl describe pod).";
}
