// Runs each workload in its own Pod (decision 0023). The executor creates the Pod (pod-launcher),
// watches this scheduler's Pods (pod-watch), turns what it sees into `finished` / `lost` events
// (pod-status), deletes or keeps ended Pods as configured, fails Pods pending too long, and adopts
// the Pods of schedulers that are gone. Pods outlive the scheduler: stopping the executor leaves
// them running for the next scheduler to adopt.
import type { V1Pod } from "@kubernetes/client-node";
import type { Workload } from "../../model/execution-api.js";
import { labelSafe, type KubeTarget } from "../../kube/index.js";
import {
  stderrLogger,
  type Executor,
  type ExecutorListener,
  type ExecutorLogger,
  type StopOptions,
  type StopResult,
} from "../executor.js";
import { WorkloadQueue } from "../local/workload-queue.js";
import { KubeApi, kubeFailure } from "./kube-api.js";
import { adoptPods } from "./pod-adoption.js";
import { launchPod } from "./pod-launcher.js";
import { DONE_LABEL, OWNER_LABEL, WORKER_LABEL } from "./pod-identity.js";
import { PodTracker, type TrackedPod } from "./pod-tracker.js";
import { PodWatch, type PodEventType } from "./pod-watch.js";
import { podVerdict, pendingTimeoutReason } from "./pod-status.js";
import { TemplateCache } from "./template-cache.js";
import type { KubernetesExecutorOptions, KubernetesExecutorStats } from "./options.js";
import { buildWorkerPod, podTemplateFileOf } from "./worker-pod.js";
import { ExecutorListeners } from "../listeners.js";

export class KubernetesExecutor implements Executor {
  readonly name = "KubernetesExecutor";
  readonly namespace: string;
  private readonly o: Required<
    Omit<KubernetesExecutorOptions, "podTemplateFile" | "owner" | "target" | "logger">
  >;
  private readonly logger: ExecutorLogger;
  private readonly listeners: ExecutorListeners;
  private readonly target: KubeTarget;
  private readonly templates: TemplateCache;
  private readonly queue = new WorkloadQueue();
  private readonly pods: PodTracker;
  private api: KubeApi | null = null;
  private watch: PodWatch | null = null;
  private owner: string | null;
  private creating = 0;
  private starting: Promise<void> | null = null;
  private stopping = false;
  private sweepTimer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<void>>();
  private launched = 0;
  private adoptedCount = 0;
  private ownMs = 0;

  constructor(options: KubernetesExecutorOptions) {
    this.o = {
      parallelism: Math.max(1, Math.floor(options.parallelism ?? 32)),
      namespace: options.namespace ?? "default",
      image: options.image,
      imageConfigured: options.imageConfigured ?? true,
      deleteWorkerPods: options.deleteWorkerPods ?? true,
      deleteWorkerPodsOnFailure: options.deleteWorkerPodsOnFailure ?? false,
      pendingTimeoutS: options.pendingTimeoutS ?? 300,
      pendingCheckIntervalS: options.pendingCheckIntervalS ?? 120,
      creationBatchSize: Math.max(1, Math.floor(options.creationBatchSize ?? 1)),
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      watchTimeoutSeconds: options.watchTimeoutSeconds ?? 300,
      apiAttempts: options.apiAttempts ?? 5,
      watchConnectTimeoutMs: options.watchConnectTimeoutMs ?? 30_000,
    };
    this.namespace = this.o.namespace;
    this.target = options.target ?? {};
    this.logger = options.logger ?? stderrLogger;
    this.listeners = new ExecutorListeners(this.logger);
    this.owner = options.owner ?? null;
    this.templates = new TemplateCache(options.podTemplateFile);
    this.pods = new PodTracker();
  }

  /** Connects to the cluster and loads the pod template; watching starts once the owner is known. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      await this.templates.load();
      this.api = await KubeApi.connect(this.target, this.o.requestTimeoutMs);
      if (this.owner !== null) await this.startWatching();
    })();
    return this.starting;
  }

  private async startWatching(): Promise<void> {
    const api = this.api;
    if (api === null || this.watch !== null || this.owner === null) return;
    this.watch = new PodWatch({
      api,
      namespace: this.namespace,
      labelSelector: `${WORKER_LABEL}=True,${OWNER_LABEL}=${labelSafe(this.owner)}`,
      logger: this.logger,
      timeoutSeconds: this.o.watchTimeoutSeconds,
      connectTimeoutMs: this.o.watchConnectTimeoutMs,
      onEvent: (type, pod) => this.timedOwn(() => this.onPod(type, pod)),
      onList: (pods, askedAt) => this.timedOwn(() => this.onList(pods, askedAt)),
    });
    await this.watch.start();
    const every = Math.max(0.05, Math.min(this.o.pendingCheckIntervalS, this.o.pendingTimeoutS / 2)) * 1000;
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
    this.pump();
  }

  queueWorkload(workload: Workload): void {
    if (this.stopping) throw new Error("The KubernetesExecutor is stopping and takes no more workloads.");
    this.queue.push(workload);
    void this.start().then(
      () => this.pump(),
      (err: unknown) =>
        this.failQueued(`the KubernetesExecutor could not start: ${kubeFailure(err).message}`),
    );
  }

  openSlots(): number {
    return Math.max(0, this.o.parallelism - this.queue.length - this.creating - this.pods.active());
  }

  stats(): KubernetesExecutorStats {
    return {
      queued: this.queue.length,
      busy: this.creating + this.pods.active(),
      launched: this.launched,
      adopted: this.adoptedCount,
      ownMs: this.ownMs,
      apiCalls: this.api?.timing.calls ?? 0,
      apiWaitMs: this.api?.timing.waitMs ?? 0,
      watch: this.watch === null ? null : { ...this.watch.stats },
    };
  }

  onEvent(listener: ExecutorListener): () => void {
    return this.listeners.add(listener);
  }

  private timedOwn<T>(fn: () => T): T {
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      this.ownMs += performance.now() - t0;
    }
  }

  /** Creates Pods for queued workloads, at most creationBatchSize at a time. */
  private pump(): void {
    if (this.stopping || this.api === null || this.owner === null || this.watch === null) return;
    while (this.creating < this.o.creationBatchSize && this.queue.length > 0) {
      const w = this.queue.shift() as Workload;
      this.creating++;
      const p = this.launch(w, this.api, this.owner)
        .catch((err: unknown) => this.lose(w, `launching its Pod failed: ${String(err)}`))
        .finally(() => {
          this.creating--;
          this.inFlight.delete(p);
          this.pump();
        });
      this.inFlight.add(p);
    }
  }

  private async launch(w: Workload, api: KubeApi, owner: string): Promise<void> {
    let built;
    try {
      built = this.timedOwn(() =>
        buildWorkerPod({
          workload: w,
          owner,
          namespace: this.namespace,
          template: this.templates.get(podTemplateFileOf(w)),
          image: this.o.image,
          imageConfigured: this.o.imageConfigured,
        }),
      );
    } catch (err) {
      return this.lose(
        w,
        `its worker Pod could not be built: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    const known = this.pods.get(built.name);
    if (known !== undefined && !known.reported) return; // adopted meanwhile: that Pod holds the try
    const result = await launchPod(api, this.namespace, built, { attempts: this.o.apiAttempts });
    if (result.kind === "failed") return this.lose(w, result.reason);
    this.launched++;
    if (result.kind === "exists")
      this.logger.info({ pod: built.name }, "worker Pod already there (409): taking it as this try's Pod");
    let pod = result.pod;
    if (result.kind === "exists" && pod.metadata?.labels?.[OWNER_LABEL] !== labelSafe(owner)) {
      // Queued again after its scheduler died: the Pod becomes ours, so that our watch sees it.
      pod = await api
        .patchPodLabels(this.namespace, built.name, { [OWNER_LABEL]: labelSafe(owner) })
        .catch(() => pod);
    }
    this.timedOwn(() => this.onPod("MODIFIED", pod));
  }

  /** A workload that got no Pod: its try is lost with `reason`. */
  private lose(w: Workload, reason: string): void {
    this.logger.error(
      { dag_id: w.ti.dag_id, task_id: w.ti.task_id, try_number: w.try_number, reason },
      "worker Pod not created",
    );
    this.listeners.emit({ type: "lost", kind: w.kind, ti: w.ti, try_number: w.try_number, reason });
  }

  private failQueued(reason: string): void {
    for (const w of this.queue.drain()) this.lose(w, reason);
  }

  /** One Pod as the watch, a list or a create shows it. */
  private onPod(type: PodEventType, pod: V1Pod): void {
    const labels = pod.metadata?.labels ?? {};
    if (labels[DONE_LABEL] === "True") return;
    const name = pod.metadata?.name ?? "";
    const mine = this.owner !== null && labels[OWNER_LABEL] === labelSafe(this.owner);
    if (type === "DELETED" && !mine && pod.metadata?.deletionTimestamp == null) {
      // Relabelled by another scheduler (it adopted the Pod): no longer ours to report.
      const t = this.pods.get(name);
      if (t !== undefined && t.uid === pod.metadata?.uid) this.pods.forget(name, t);
      return;
    }
    const t = this.pods.see(pod);
    if (t === null) return;
    if (type === "DELETED") {
      const reported = t.reported;
      this.pods.forget(name, t);
      if (t.deleting || reported) return;
    }
    if (t.reported) return;
    const verdict = podVerdict(pod, type === "DELETED");
    if (verdict.kind === "succeeded") this.end(t, null);
    else if (verdict.kind === "failed") this.end(t, verdict.reason, type === "DELETED");
  }

  /**
   * After a (re)list asked for at `askedAt`: Pods the executor tracked that the list lacks ended
   * unseen (unless seen since the list was asked for: a create that landed meanwhile).
   */
  private onList(pods: V1Pod[], askedAt: number): void {
    const present = new Set(pods.map((p) => p.metadata?.name ?? ""));
    for (const p of pods) this.onPod("MODIFIED", p);
    for (const t of this.pods.all())
      if (!present.has(t.name) && t.seenAt < askedAt && !t.reported && !t.deleting) {
        this.end(
          t,
          `Pod ${t.name} disappeared while the executor was not watching, before its try ended`,
          true,
        );
      }
  }

  /** Reports the try's end once, then deletes or keeps the Pod. */
  private end(t: TrackedPod, reason: string | null, gone = false): void {
    t.reported = true;
    const k = t.key;
    if (reason === null)
      this.listeners.emit({
        type: "finished",
        kind: k.kind,
        ti: k.ti,
        try_number: k.try_number,
        state: null,
        runner_ms: 0,
        next: null,
      });
    else {
      this.logger.warn({ pod: t.name, reason }, "worker Pod lost its try");
      this.listeners.emit({ type: "lost", kind: k.kind, ti: k.ti, try_number: k.try_number, reason });
    }
    if (gone) {
      this.pods.forget(t.name, t);
      return;
    }
    const remove = this.o.deleteWorkerPods && (reason === null || this.o.deleteWorkerPodsOnFailure);
    this.settle(t, remove);
  }

  /** Deletes the Pod, or labels it done and keeps it; retried by the sweep when it fails. */
  private settle(t: TrackedPod, remove: boolean): void {
    const api = this.api;
    if (api === null) return;
    t.settling = true;
    t.deleting = remove;
    const call = remove
      ? api.deletePod(this.namespace, t.name)
      : api.patchPodLabels(this.namespace, t.name, { [DONE_LABEL]: "True" });
    call.then(
      () => {
        if (!remove) this.pods.forget(t.name, t);
      },
      (err: unknown) => {
        const f = kubeFailure(err);
        if (f.code === 404) this.pods.forget(t.name, t);
        else {
          t.settling = false;
          this.logger.warn(
            { pod: t.name, error: f.message },
            "could not delete or label an ended worker Pod; retrying",
          );
        }
      },
    );
  }

  /** Periodically: Pods pending too long fail and go; ended Pods not yet settled are retried. */
  private sweep(): void {
    if (this.stopping) return;
    const now = Date.now();
    for (const t of this.pods.all()) {
      if (t.reported) {
        if (!t.settling) this.settle(t, t.deleting);
        continue;
      }
      if (t.phase !== "Pending" || t.createdAt === null || t.checking) continue;
      if (now - t.createdAt < this.o.pendingTimeoutS * 1000) continue;
      t.checking = true;
      void this.failPending(t).finally(() => (t.checking = false));
    }
  }

  /** A Pod pending past the timeout: lost with what kept it pending (read afresh), then deleted. */
  private async failPending(t: TrackedPod): Promise<void> {
    const fresh = await this.api?.readPod(this.namespace, t.name).catch(() => undefined);
    if (t.reported) return;
    if (fresh !== undefined && podVerdict(fresh).kind !== "pending") {
      this.timedOwn(() => this.onPod("MODIFIED", fresh)); // it moved on meanwhile
      return;
    }
    t.reported = true;
    const reason = pendingTimeoutReason(fresh ?? t.last, this.o.pendingTimeoutS);
    this.listeners.emit({
      type: "lost",
      kind: t.key.kind,
      ti: t.key.ti,
      try_number: t.key.try_number,
      reason,
    });
    // A Pod stuck Pending is deleted whatever delete_worker_pods says: it would hold its place.
    this.settle(t, true);
  }

  /**
   * Takes this scheduler's id (watching starts with the first call) and adopts the Pods of
   * schedulers that are gone (pod-adoption.ts): relabelled to us, our watch reports them.
   */
  async adopt(owner: string, gone: (owners: string[]) => Promise<string[]>): Promise<number> {
    await this.start();
    if (this.owner !== owner) {
      // A new id (the first call, or a scheduler that changed its job): watch its Pods instead.
      this.owner = owner;
      clearInterval(this.sweepTimer);
      await this.watch?.stop();
      this.watch = null;
      await this.startWatching();
    }
    const adopted = await adoptPods({
      api: this.api as KubeApi,
      namespace: this.namespace,
      owner,
      gone,
      logger: this.logger,
      onAdopted: (pod) => this.timedOwn(() => this.onPod("MODIFIED", pod)),
    });
    this.adoptedCount += adopted;
    this.pump();
    return adopted;
  }

  /**
   * Stops creating Pods; the Pods keep running (the next scheduler adopts them). Workloads that
   * never got a Pod are handed back.
   */
  async stop(options: StopOptions = {}): Promise<StopResult> {
    this.stopping = true;
    clearInterval(this.sweepTimer);
    const notStarted = this.queue.drain();
    const wait = Promise.all([...this.inFlight]);
    await Promise.race([wait, new Promise((r) => setTimeout(r, options.timeoutMs ?? 10_000).unref())]);
    await this.watch?.stop();
    return { notStarted };
  }
}
