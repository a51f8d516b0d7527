// Watches the executor's Pods instead of polling them: one list, then a watch from the list's
// resourceVersion, resumed from the last version seen whenever the connection ends (server
// timeout, disconnect, a stalled stream), and a fresh list when the API server answers 410 Gone
// (the version was compacted). Airflow's watcher went on watching from a stale or reset version
// for years (apache/airflow#12229, #21087, #37369): events were lost, or replayed from the start.
import type { KubeConfig, V1Pod } from "@kubernetes/client-node";
import type { ExecutorLogger } from "../executor.js";
import { kubeFailure, type KubeApi } from "./kube-api.js";

export type PodEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface PodWatchOptions {
  api: KubeApi;
  namespace: string;
  labelSelector: string;
  /** Each Pod change, in order. */
  onEvent(type: PodEventType, pod: V1Pod): void;
  /** After each (re)list asked for at `askedAt` (performance.now): every Pod that matches. */
  onList(pods: V1Pod[], askedAt: number): void;
  logger: ExecutorLogger;
  /** The server ends each watch after this long (a new one resumes at once). Default 300. */
  timeoutSeconds?: number;
  /** A watch silent this much longer than timeoutSeconds is taken as dead. Default 30 000. */
  stallGraceMs?: number;
  /** A watch request unanswered this long is abandoned. Default 30 000. */
  connectTimeoutMs?: number;
}

/** How often the watch had to start over, for tests and the benchmark. */
export interface WatchStats {
  lists: number;
  watches: number;
  gone: number;
  errors: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class PodWatch {
  /** The last resourceVersion seen; "" means a list is due. */
  resourceVersion = "";
  readonly stats: WatchStats = { lists: 0, watches: 0, gone: 0, errors: 0 };
  private stopped = false;
  private abort: AbortController | null = null;
  /** Ends the current watch connection at once (stop). */
  private cancel: (() => void) | null = null;
  private loop: Promise<void> | null = null;
  private failures = 0;
  private firstList: (() => void) | null = null;

  constructor(private readonly o: PodWatchOptions) {}

  /**
   * Lists, then watches, in the background. Resolves after the first list, or after its first
   * failure (the list is retried with backoff meanwhile): an API server that is down must not
   * hold up the scheduler's start.
   */
  start(): Promise<void> {
    return new Promise((resolve) => {
      this.firstList = resolve;
      this.loop = this.run();
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    this.cancel?.();
    await this.loop;
  }

  private async relist(): Promise<void> {
    for (;;) {
      try {
        const askedAt = performance.now();
        const page = await this.o.api.listPods(this.o.namespace, this.o.labelSelector);
        this.stats.lists++;
        this.resourceVersion = page.resourceVersion;
        this.o.onList(page.items, askedAt);
        this.failures = 0;
        this.firstList?.();
        this.firstList = null;
        return;
      } catch (err) {
        this.firstList?.();
        this.firstList = null;
        if (this.stopped) return;
        this.stats.errors++;
        const f = kubeFailure(err);
        this.o.logger.warn({ code: f.code, error: f.message }, "listing worker Pods failed; retrying");
        await this.backoff();
      }
    }
  }

  private backoff(): Promise<void> {
    this.failures++;
    return sleep(Math.min(10_000, 100 * 2 ** Math.min(this.failures, 7)));
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      if (this.resourceVersion === "") await this.relist();
      if (this.stopped) return;
      const ended = await this.watchOnce();
      if (this.stopped) return;
      if (ended === "gone") {
        this.stats.gone++;
        this.o.logger.info(
          { resourceVersion: this.resourceVersion },
          "watch answered 410 Gone: listing again",
        );
        this.resourceVersion = "";
      } else if (ended === "error") {
        this.stats.errors++;
        await this.backoff();
      }
    }
  }

  /** One watch connection; resolves with how it ended. */
  private watchOnce(): Promise<"closed" | "gone" | "error"> {
    const timeoutSeconds = this.o.timeoutSeconds ?? 300;
    const stallMs = timeoutSeconds * 1000 + (this.o.stallGraceMs ?? 30_000);
    const connectMs = this.o.connectTimeoutMs ?? 30_000;
    return new Promise((resolve) => {
      let outcome: "closed" | "gone" | "error" = "closed";
      let settled = false;
      let controller: AbortController | null = null;
      let sawEvent = false;
      let timer: NodeJS.Timeout | undefined;
      const arm = (ms: number, what: string) => {
        clearTimeout(timer);
        timer = setTimeout(() => {
          this.o.logger.warn({ ms }, what);
          // The client gives the request's controller only once the answer's headers came: a
          // request that hangs before them is abandoned here and aborted when it returns.
          if (controller === null) finish(Object.assign(new Error(what), { name: "WatchTimeout" }));
          else {
            outcome = "error";
            controller.abort();
          }
        }, ms);
        timer.unref();
      };
      const finish = (err: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.abort = null;
        this.cancel = null;
        if (err !== null && err !== undefined && outcome === "closed") {
          const status = (err as { statusCode?: unknown }).statusCode;
          if (status === 410) outcome = "gone";
          else if ((err as { name?: unknown }).name !== "AbortError" || !this.stopped) {
            outcome = "error";
            this.o.logger.warn({ error: kubeFailure(err).message, status }, "the Pod watch failed; resuming");
          }
        }
        // A watch that delivered events worked: the next failure starts the backoff afresh.
        if (sawEvent && outcome !== "error") this.failures = 0;
        resolve(outcome);
      };
      const onEvent = (type: string, obj: unknown) => {
        if (settled) return;
        arm(stallMs, "the Pod watch went silent; reconnecting");
        if (type === "ERROR") {
          const status = obj as { code?: number; message?: string };
          outcome = status.code === 410 ? "gone" : "error";
          if (outcome === "error")
            this.o.logger.warn({ code: status.code, error: status.message }, "the Pod watch sent an error");
          controller?.abort();
          return;
        }
        const pod = obj as V1Pod;
        const rv = pod.metadata?.resourceVersion;
        if (rv !== undefined && rv !== "") this.resourceVersion = rv;
        sawEvent = true;
        if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") this.o.onEvent(type, pod);
      };
      this.cancel = () => {
        controller?.abort();
        finish(null);
      };
      arm(connectMs, "the Pod watch got no answer; reconnecting");
      this.stats.watches++;
      void this.startWatch(timeoutSeconds, onEvent, finish).then(
        (c) => {
          if (settled || this.stopped) {
            c.abort();
            return;
          }
          controller = c;
          this.abort = c;
          if (!sawEvent) arm(stallMs, "the Pod watch went silent; reconnecting");
        },
        (err: unknown) => finish(err),
      );
    });
  }

  private async startWatch(
    timeoutSeconds: number,
    onEvent: (type: string, obj: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const k8s = await import("@kubernetes/client-node");
    const watch = new k8s.Watch(this.o.api.kubeConfig as KubeConfig);
    return watch.watch(
      `/api/v1/namespaces/${encodeURIComponent(this.o.namespace)}/pods`,
      {
        labelSelector: this.o.labelSelector,
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds,
      },
      onEvent,
      done,
    );
  }
}
