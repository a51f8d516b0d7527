/**
 * A Kubernetes API simulator for tests (issue 10): the real REST paths over HTTP with the API
 * server's semantics, Pods run as local processes. Not part of the published package.
 * See README.md next to this file.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Fault } from "./faults.js";
import { Faults } from "./faults.js";
import { Handlers, type Hooks } from "./handlers.js";
import { DEFAULT_IMAGES } from "./images.js";
import { writeKubeconfig } from "./kubeconfig.js";
import type { RuntimeOptions } from "./kubelet.js";
import { PodRuntime } from "./pods-runtime.js";
import { type RequestRecord, SimServer } from "./server.js";
import { withSparkOperator } from "./spark.js";
import { Store } from "./store.js";
import type { ImageSpec, KubeObject } from "./types.js";

export type { Fault } from "./faults.js";
export type { ImageSpec, KubeObject } from "./types.js";
export type { RequestRecord } from "./server.js";

export interface KubeSimOptions {
  /**
   * image (exact "repo:tag", or "repo" for any tag) → how its containers run. Unknown images fail
   * to pull (ErrImagePull, then ImagePullBackOff). busybox, alpine, bash, ubuntu and debian run
   * their commands from the host unless overridden here.
   */
  images?: Record<string, ImageSpec>;
  /** Time a Pod waits after scheduling before its first container starts (default 50 ms). */
  startDelayMs?: number;
  /** Cap on a deleted Pod's grace period before SIGKILL (default 2000 ms). */
  maxGraceMs?: number;
  /** Image pull and missing-Secret retries, and the first CrashLoopBackOff delay (default 1000 ms). */
  retryMs?: number;
  /** Watch history kept per resource for resuming (default 2000 changes); older resourceVersions get 410. */
  historyLimit?: number;
  /** Interval of BOOKMARK events on watches that allow them (default 1000 ms). */
  bookmarkMs?: number;
  /** Default: a free port on 127.0.0.1. */
  port?: number;
  /** Where to write the kubeconfig (default: a temporary file removed by close()). */
  kubeconfigPath?: string;
  /**
   * Create a namespace on the first write into it (default true). With false, only "default",
   * "kube-system" and namespaces created through the API exist, and a create elsewhere is 404
   * `namespaces "x" not found`, as on a real cluster.
   */
  autoCreateNamespaces?: boolean;
  /** Run the simulated Spark operator for SparkApplications (default true). */
  sparkOperator?: boolean;
}

export interface KubeSim {
  /** http://127.0.0.1:PORT */
  url: string;
  /** A kubeconfig for it: context "kube-sim", namespace "default". */
  kubeconfigPath: string;
  /** Adds a fault; returns a function that removes it (a no-op for one-shot faults). */
  inject(fault: Fault): () => void;
  /** Current Pods (all namespaces without an argument), straight from the store. */
  pods(namespace?: string): KubeObject[];
  /** Current objects of any resource, e.g. objects("secrets", "default"). */
  objects(
    resource: "pods" | "secrets" | "configmaps" | "events" | "namespaces" | "sparkapplications",
    namespace?: string,
  ): KubeObject[];
  /** A container's output so far ("" when it never started). */
  logs(namespace: string, pod: string, container?: string): string;
  /** Every request served, in order. */
  requests(): RequestRecord[];
  /** Every `Warning` the API sent (unknown fields it dropped), e.g. to assert a client sends none. */
  warnings(): { method: string; path: string; warning: string }[];
  /** Kills every Pod's processes, ends watches, closes the server. */
  close(): Promise<void>;
}

/** Internal parts, for the Spark operator to hook into. */
export interface SimParts {
  store: Store;
  handlers: Handlers;
  runtime: PodRuntime;
}

export async function startKubeSim(options: KubeSimOptions = {}): Promise<KubeSim> {
  const store = new Store(options.historyLimit ?? 2000);
  const faults = new Faults();
  const hooks: Hooks = {};
  // The runtime reports a Pod gone after deletion; its dependents are then collected.
  const runtimeOptions: RuntimeOptions = {
    images: { ...DEFAULT_IMAGES, ...(options.images ?? {}) },
    startDelayMs: options.startDelayMs ?? 50,
    maxGraceMs: options.maxGraceMs ?? 2000,
    retryMs: options.retryMs ?? 1000,
  };
  const runtime = new PodRuntime(store, faults, runtimeOptions, (pod) => handlers.collect(pod));
  const handlers = new Handlers(store, runtime, hooks, options.autoCreateNamespaces ?? true);
  handlers.ensureNamespace("default");
  handlers.ensureNamespace("kube-system");
  if (options.sparkOperator !== false)
    Object.assign(hooks, withSparkOperator()({ store, handlers, runtime }));
  const server = new SimServer({ store, runtime, faults, handlers, bookmarkMs: options.bookmarkMs ?? 1000 });
  await new Promise<void>((resolve, reject) => {
    server.http.once("error", reject);
    server.http.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (server.http.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const ownDir = options.kubeconfigPath === undefined ? mkdtempSync(join(tmpdir(), "kube-sim-")) : undefined;
  const kubeconfigPath = options.kubeconfigPath ?? join(ownDir!, "kubeconfig");
  writeKubeconfig(kubeconfigPath, url);
  runtimeOptions.podKubeconfig = kubeconfigPath;
  let closed = false;
  return {
    url,
    kubeconfigPath,
    inject(fault) {
      if (fault.type === "WatchDisconnect") {
        for (const w of [...server.watches]) {
          if (fault.path === undefined || new RegExp(fault.path).test(w.pathAndQuery)) w.close();
        }
        return () => {};
      }
      if (fault.type === "CompactHistory") {
        store.compact();
        return () => {};
      }
      return faults.add(fault);
    },
    pods: (namespace) => store.list("pods", namespace),
    objects: (resource, namespace) => store.list(resource, namespace),
    logs(namespace, pod, container) {
      const spec = store.get("pods", namespace, pod)?.spec as { containers?: { name: string }[] } | undefined;
      const name = container ?? spec?.containers?.[0]?.name ?? "";
      return runtime.container(namespace, pod, name)?.log.text() ?? "";
    },
    requests: () => server.requests.map((r) => ({ ...r })),
    warnings: () => server.warnings.map((w) => ({ ...w })),
    async close() {
      if (closed) return;
      closed = true;
      await runtime.close();
      await server.close();
      if (ownDir !== undefined) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}
