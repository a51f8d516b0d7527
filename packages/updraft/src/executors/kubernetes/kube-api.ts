// The few Kubernetes API calls the executor makes, through the official client, each with a
// deadline (the client sets none: a hung API server would hold a create forever) and timed, so
// that the benchmark can tell the executor's own work from waiting on the API server.
import type { CoreV1Api, KubeConfig, V1OwnerReference, V1Pod, V1Secret } from "@kubernetes/client-node";
import { loadKubeConfig, type KubeTarget } from "../../kube/index.js";

/** An API answer that is not a success: `code` is the HTTP status (0: no answer, e.g. a timeout). */
export interface KubeFailure {
  code: number;
  message: string;
  /** Seconds the server asked the client to wait (Retry-After, on 429 and 503), if it did. */
  retryAfterS?: number;
}

/** The status and message of anything the client throws. */
export function kubeFailure(err: unknown): KubeFailure {
  const e = err as { code?: unknown; body?: unknown; message?: unknown; name?: unknown; headers?: unknown };
  const code = typeof e?.code === "number" ? e.code : 0;
  const headers = (typeof e?.headers === "object" && e.headers !== null ? e.headers : {}) as Record<
    string,
    unknown
  >;
  const retryAfter = Number(headers["retry-after"] ?? headers["Retry-After"]);
  let message = typeof e?.message === "string" ? e.message : String(err);
  let body: unknown = e?.body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      // Not JSON: keep the text.
    }
  }
  if (
    typeof body === "object" &&
    body !== null &&
    typeof (body as { message?: unknown }).message === "string"
  )
    message = (body as { message: string }).message;
  else if (typeof body === "string" && body !== "") message = body;
  if (e?.name === "AbortError" || e?.name === "TimeoutError") message = `no answer in time (${message})`;
  return Number.isFinite(retryAfter) && retryAfter >= 0
    ? { code, message, retryAfterS: retryAfter }
    : { code, message };
}

/** Whether a failed call may succeed when repeated: no answer, throttling, or a server error. */
export function isTransient(f: KubeFailure): boolean {
  return f.code === 0 || f.code === 429 || f.code >= 500;
}

/** The client's middleware answers with its own minimal observable: anything with toPromise(). */
type Later<T> = { toPromise(): Promise<T> };
type Middleware = {
  pre: (ctx: {
    setSignal(s: AbortSignal): void;
    setHeaderParam(k: string, v: string): void;
  }) => Later<unknown>;
  post: (ctx: unknown) => Later<unknown>;
};
const now = <T>(v: T): Later<T> => ({ toPromise: () => Promise.resolve(v) });

export interface PodPage {
  items: V1Pod[];
  resourceVersion: string;
}

/** Time spent waiting on the API server, for the benchmark and stats. */
export interface ApiTiming {
  calls: number;
  waitMs: number;
}

export class KubeApi {
  readonly timing: ApiTiming = { calls: 0, waitMs: 0 };

  private constructor(
    readonly kubeConfig: KubeConfig,
    private readonly core: CoreV1Api,
    private readonly timeoutMs: number,
  ) {}

  /** Loads the client (lazily: it is large) and the configuration of `target`. */
  static async connect(target: KubeTarget, timeoutMs = 30_000): Promise<KubeApi> {
    const kc = await loadKubeConfig(target);
    const k8s = await import("@kubernetes/client-node");
    return new KubeApi(kc, kc.makeApiClient(k8s.CoreV1Api), timeoutMs);
  }

  /** Options of one call: its deadline, and a content type for patches. */
  private options(contentType?: string): never {
    const timeoutMs = this.timeoutMs;
    const mw: Middleware = {
      pre: (ctx) => {
        ctx.setSignal(AbortSignal.timeout(timeoutMs));
        if (contentType !== undefined) ctx.setHeaderParam("Content-Type", contentType);
        return now(ctx);
      },
      post: now,
    };
    // The object API hands options to the observable API (the client's own observable stub).
    return { middleware: [mw], middlewareMergeStrategy: "append" } as never;
  }

  private async timed<T>(call: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    this.timing.calls++;
    try {
      return await call();
    } finally {
      this.timing.waitMs += performance.now() - t0;
    }
  }

  createSecret(namespace: string, body: V1Secret): Promise<V1Secret> {
    return this.timed(() => this.core.createNamespacedSecret({ namespace, body }, this.options()));
  }

  replaceSecret(namespace: string, body: V1Secret): Promise<V1Secret> {
    const name = body.metadata?.name ?? "";
    return this.timed(() => this.core.replaceNamespacedSecret({ namespace, name, body }, this.options()));
  }

  /** Makes the Pod the Secret's owner, so that the Secret goes with the Pod. */
  setSecretOwner(namespace: string, name: string, owner: V1OwnerReference): Promise<V1Secret> {
    const body = { metadata: { ownerReferences: [owner] } };
    return this.timed(() =>
      this.core.patchNamespacedSecret(
        { namespace, name, body },
        this.options("application/merge-patch+json"),
      ),
    );
  }

  listSecrets(namespace: string, labelSelector: string): Promise<V1Secret[]> {
    return this.timed(async () => {
      const list = await this.core.listNamespacedSecret({ namespace, labelSelector }, this.options());
      return list.items;
    });
  }

  deleteSecret(namespace: string, name: string): Promise<unknown> {
    return this.timed(() => this.core.deleteNamespacedSecret({ namespace, name }, this.options()));
  }

  createPod(namespace: string, body: V1Pod): Promise<V1Pod> {
    return this.timed(() => this.core.createNamespacedPod({ namespace, body }, this.options()));
  }

  readPod(namespace: string, name: string): Promise<V1Pod> {
    return this.timed(() => this.core.readNamespacedPod({ namespace, name }, this.options()));
  }

  async listPods(namespace: string, labelSelector: string): Promise<PodPage> {
    const list = await this.timed(() =>
      this.core.listNamespacedPod({ namespace, labelSelector }, this.options()),
    );
    return { items: list.items, resourceVersion: list.metadata?.resourceVersion ?? "" };
  }

  /** Sets (or, with null, removes) labels of a Pod. */
  patchPodLabels(namespace: string, name: string, labels: Record<string, string | null>): Promise<V1Pod> {
    const body = { metadata: { labels } };
    return this.timed(() =>
      this.core.patchNamespacedPod({ namespace, name, body }, this.options("application/merge-patch+json")),
    );
  }

  /** A container's log so far (the API server's log view reads kept Pods through it). */
  readPodLog(namespace: string, name: string, container: string): Promise<string> {
    return this.timed(() => this.core.readNamespacedPodLog({ namespace, name, container }, this.options()));
  }

  deletePod(namespace: string, name: string): Promise<V1Pod> {
    return this.timed(() => this.core.deleteNamespacedPod({ namespace, name }, this.options()));
  }
}
