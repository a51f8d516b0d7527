// One KubernetesPodOperator try against the API server: create the Pod (a repeated create of the
// same try finds it instead), wait for it to start within the startup timeout, follow the base
// container's log while it runs, collect the XCom sidecar's output, and delete the Pod as asked —
// or at once when the try is killed. Pure API calls through the official client: it runs in any
// task runner, whatever the executor.
import type { CoreV1Api, KubeConfig, V1Pod } from "@kubernetes/client-node";
import { UpdraftError } from "../common/errors.js";
import { apiStatus, kubeApiError } from "./api-errors.js";
import { followContainerLog } from "./log-follow.js";
import { containerEnd, podEnded, type ContainerEnd } from "./pod-state.js";
import { withRetries } from "./api-retry.js";
import { waitForPodStart } from "./pod-start.js";
import { readSidecarOutput } from "./sidecar-output.js";
import { pollDelay, sleepUnlessAborted, throwIfAborted } from "./waits.js";

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

  /** Polls until the Pod leaves Pending (see pod-start.ts). */
  private waitForStart(): Promise<V1Pod> {
    return waitForPodStart({
      ref: this.ref,
      startupTimeoutMs: this.o.startupTimeoutMs,
      signal: this.o.signal,
      log: this.o.log,
      read: () => this.readPod("it was starting"),
      warningEvents: async () =>
        (
          await this.core.listNamespacedEvent({
            namespace: this.namespace,
            fieldSelector: `involvedObject.name=${this.name}`,
          })
        ).items.filter((e) => e.type === "Warning"),
    });
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
   * Tells the sidecar to print the result file and reads what it prints (sidecar-output.ts):
   * deleting the Pod stops it; a kept Pod gets a one-second active deadline instead, after which
   * the kubelet stops its containers the same way.
   */
  private async readSidecar(succeeded: boolean): Promise<string[]> {
    const deleting =
      this.o.onFinish === "delete_pod" || (this.o.onFinish === "delete_succeeded_pod" && succeeded);
    return readSidecarOutput({
      kc: this.o.kc,
      namespace: this.namespace,
      pod: this.name,
      container: this.o.xcomSidecar as string,
      signal: this.o.signal,
      read: () =>
        withRetries(
          () => this.core.readNamespacedPod({ name: this.name, namespace: this.namespace }),
          this.o.signal,
        ),
      stopSidecar: async () => {
        if (deleting) {
          this.deleted = this.deletePod("finished; the XCom sidecar prints the result as it stops");
          return this.deleted;
        }
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
      },
    });
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
