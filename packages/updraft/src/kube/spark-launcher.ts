// One SparkKubernetesOperator try: submit the SparkApplication (a repeated submit of the same try
// finds it instead), wait for the Spark operator to run it, follow the driver Pod's log, and
// end with the application's final state; delete it at the end when asked, and at once when the
// try is killed.
import type { CoreV1Api, CustomObjectsApi, KubeConfig, V1Pod } from "@kubernetes/client-node";
import { UpdraftError } from "../common/errors.js";
import { apiStatus, kubeApiError } from "./api-errors.js";
import { followContainerLog } from "./log-follow.js";
import { HOPELESS_WAITING, describeWaiting, podStarted } from "./pod-state.js";
import type { LogLevel } from "./pod-launcher.js";
import { withRetries } from "./api-retry.js";
import { sleepUnlessAborted, throwIfAborted } from "./waits.js";

/** Deleting goes on after the try was stopped: its retries wait whatever the try's signal says. */
const NEVER = new AbortController().signal;

export interface SparkRunOptions {
  kc: KubeConfig;
  /** The SparkApplication (metadata.name and namespace set). */
  application: Record<string, unknown>;
  getLogs: boolean;
  startupTimeoutMs: number;
  deleteOnTermination: boolean;
  signal: AbortSignal;
  log(level: LogLevel, text: string): void;
  containerLine(container: string, line: string): void;
}

export interface SparkRunResult {
  name: string;
  namespace: string;
  /** COMPLETED, FAILED or SUBMISSION_FAILED. */
  state: string;
  errorMessage: string | undefined;
}

/** The Spark operator's driver container name. */
const DRIVER_CONTAINER = "spark-kubernetes-driver";
const NOT_STARTED = new Set(["", "NEW", "SUBMITTED", "PENDING_RERUN"]);
const FAILED = new Set(["FAILED", "SUBMISSION_FAILED"]);

interface AppStatus {
  applicationState?: { state?: string; errorMessage?: string };
  driverInfo?: { podName?: string };
}

export class SparkRun {
  readonly name: string;
  readonly namespace: string;
  private readonly group: string;
  private readonly version: string;
  private readonly plural = "sparkapplications";
  private created = false;
  private deleted: Promise<void> | null = null;

  private constructor(
    private readonly o: SparkRunOptions,
    private readonly custom: CustomObjectsApi,
    private readonly core: CoreV1Api,
  ) {
    const meta = o.application.metadata as { name: string; namespace: string };
    this.name = meta.name;
    this.namespace = meta.namespace;
    const [group = "sparkoperator.k8s.io", version = "v1beta2"] = String(o.application.apiVersion).split("/");
    this.group = group;
    this.version = version;
  }

  static async create(o: SparkRunOptions): Promise<SparkRun> {
    const k8s = await import("@kubernetes/client-node");
    return new SparkRun(o, o.kc.makeApiClient(k8s.CustomObjectsApi), o.kc.makeApiClient(k8s.CoreV1Api));
  }

  private get ref(): string {
    return `SparkApplication ${this.namespace}/${this.name}`;
  }

  async run(): Promise<SparkRunResult> {
    let result: SparkRunResult | undefined;
    try {
      await this.submit();
      result = await this.follow();
      return result;
    } finally {
      if (this.created && this.deleted === null) {
        if (this.o.signal.aborted) await this.kill();
        else if (this.o.deleteOnTermination) {
          this.deleted = this.deleteApp(result === undefined ? "the try failed" : `it ended ${result.state}`);
          await this.deleted;
        } else this.o.log("INFO", `Keeping ${this.ref} (deleteOnTermination is false).`);
      }
    }
  }

  /** Deletes the application (the Spark operator then removes its driver and executors). */
  kill(): Promise<void> {
    if (!this.created) return Promise.resolve();
    this.deleted ??= this.deleteApp("the task was stopped");
    return this.deleted;
  }

  private async deleteApp(why: string): Promise<void> {
    this.o.log("INFO", `Deleting ${this.ref} (${why}).`);
    try {
      await withRetries(
        () =>
          this.custom.deleteNamespacedCustomObject({
            group: this.group,
            version: this.version,
            namespace: this.namespace,
            plural: this.plural,
            name: this.name,
          }),
        NEVER,
      );
    } catch (err) {
      if (apiStatus(err) !== 404)
        this.o.log("WARNING", kubeApiError(err, `delete ${this.ref}`, this.namespace).message);
    }
  }

  private async submit(): Promise<void> {
    throwIfAborted(this.o.signal);
    try {
      await withRetries(
        () =>
          this.custom.createNamespacedCustomObject({
            group: this.group,
            version: this.version,
            namespace: this.namespace,
            plural: this.plural,
            body: this.o.application,
          }),
        this.o.signal,
      );
      this.created = true;
      this.o.log("INFO", `Submitted ${this.ref}.`);
    } catch (err) {
      if (apiStatus(err) !== 409) throw kubeApiError(err, `submit ${this.ref}`, this.namespace);
      this.created = true;
      this.o.log("INFO", `${this.ref} exists already (submitted earlier by this try); following it.`);
    }
  }

  private async read(): Promise<AppStatus> {
    try {
      const obj = (await withRetries(
        () =>
          this.custom.getNamespacedCustomObject({
            group: this.group,
            version: this.version,
            namespace: this.namespace,
            plural: this.plural,
            name: this.name,
          }),
        this.o.signal,
      )) as { status?: AppStatus };
      return obj.status ?? {};
    } catch (err) {
      if (apiStatus(err) === 404)
        throw new UpdraftError(
          "KUBERNETES_SPARK_FAILED",
          `${this.ref} disappeared while it ran: something else deleted it. Run the task again.`,
        );
      throw kubeApiError(err, `read ${this.ref}`, this.namespace);
    }
  }

  private async readDriver(podName: string): Promise<V1Pod | undefined> {
    try {
      return await withRetries(
        () => this.core.readNamespacedPod({ name: podName, namespace: this.namespace }),
        this.o.signal,
      );
    } catch (err) {
      if (apiStatus(err) === 404) return undefined;
      throw kubeApiError(err, `read driver Pod ${this.namespace}/${podName}`, this.namespace);
    }
  }

  private followDriver(driver: V1Pod, podName: string, ended: Promise<void>): Promise<void> {
    const containers = driver.spec?.containers ?? [];
    const container =
      containers.find((c) => c.name === DRIVER_CONTAINER)?.name ?? containers[0]?.name ?? DRIVER_CONTAINER;
    return followContainerLog({
      kc: this.o.kc,
      namespace: this.namespace,
      pod: podName,
      container,
      onLine: (line) => this.o.containerLine("driver", line),
      containerEnded: ended,
      signal: this.o.signal,
      warn: (m) => this.o.log("WARNING", m),
    });
  }

  /** Polls the application to its end, following the driver's log once its Pod runs. */
  private async follow(): Promise<SparkRunResult> {
    const t0 = Date.now();
    let lastState: string | undefined;
    let lastWaiting: string | undefined;
    let logs: Promise<void> | null = null;
    let markEnded: () => void = () => undefined;
    const ended = new Promise<void>((r) => (markEnded = r));
    try {
      for (;;) {
        throwIfAborted(this.o.signal);
        const status = await this.read();
        const state = status.applicationState?.state ?? "";
        if (state !== lastState) this.o.log("INFO", `${this.ref} is ${state === "" ? "submitted" : state}.`);
        lastState = state;
        const driverName = status.driverInfo?.podName ?? `${this.name}-driver`;
        if (state === "COMPLETED" || FAILED.has(state)) {
          markEnded();
          // A driver that ended between two polls: its whole log is still there to read.
          if (logs === null && this.o.getLogs) {
            const driver = await this.readDriver(driverName);
            if (driver !== undefined) logs = this.followDriver(driver, driverName, ended);
          }
          await logs;
          return {
            name: this.name,
            namespace: this.namespace,
            state,
            errorMessage: status.applicationState?.errorMessage,
          };
        }
        const driver = await this.readDriver(driverName);
        if (driver !== undefined && !podStarted(driver)) {
          const waiting = describeWaiting(driver);
          if (waiting !== undefined && waiting !== lastWaiting)
            this.o.log("WARNING", `Driver Pod ${this.namespace}/${driverName} is waiting: ${waiting}`);
          lastWaiting = waiting ?? lastWaiting;
          const hopeless = (driver.status?.containerStatuses ?? []).find((s) =>
            HOPELESS_WAITING.has(s.state?.waiting?.reason ?? ""),
          );
          if (hopeless !== undefined)
            throw new UpdraftError(
              "KUBERNETES_SPARK_FAILED",
              `${this.ref} cannot start: its driver is waiting with ${hopeless.state?.waiting?.reason}. Fix spec.image or the driver's configuration.`,
            );
        }
        if (driver !== undefined && podStarted(driver) && logs === null && this.o.getLogs)
          logs = this.followDriver(driver, driverName, ended);
        if (NOT_STARTED.has(state) && Date.now() - t0 >= this.o.startupTimeoutMs) {
          throw new UpdraftError(
            "KUBERNETES_SPARK_FAILED",
            `${this.ref} did not start running within startupTimeoutSeconds (${Math.round(this.o.startupTimeoutMs / 1000)} s): it is ${state === "" ? "not picked up by the Spark operator yet (is it installed and watching this namespace?)" : state}${lastWaiting === undefined ? "" : `; driver waiting: ${lastWaiting}`}.`,
          );
        }
        await sleepUnlessAborted(Date.now() - t0 < 5000 ? 200 : 1000, this.o.signal);
      }
    } finally {
      markEnded();
      await logs?.catch(() => undefined);
    }
  }
}
