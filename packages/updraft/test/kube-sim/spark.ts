/**
 * A simulated Spark operator (kubeflow/spark-operator, sparkoperator.k8s.io/v1beta2): a created
 * SparkApplication is SUBMITTED, gets a driver Pod `<name>-driver` that runs through the image
 * map like any Pod, and follows its driver: RUNNING, then COMPLETED or FAILED with an
 * errorMessage. No executors are started (the driver is the whole application here).
 */
import { randomBytes, randomUUID } from "node:crypto";
import type { Handlers, Hooks } from "./handlers.js";
import type { SimParts } from "./index.js";
import { SPARK_GROUP, SPARK_VERSION } from "./discovery.js";
import { ApiError, invalid, type StatusCause } from "./status.js";
import { nowSeconds, type Store } from "./store.js";
import type { KubeObject, StoreEvent } from "./types.js";

const APP_LABEL = "sparkoperator.k8s.io/app-name";
const TERMINAL = new Set(["COMPLETED", "FAILED", "SUBMISSION_FAILED"]);

interface RoleSpec {
  cores?: number;
  coreLimit?: string;
  memory?: string;
  image?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  env?: unknown[];
  envFrom?: unknown[];
  volumeMounts?: unknown[];
  serviceAccount?: string;
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  podName?: string;
}

interface SparkSpec {
  type?: string;
  mode?: string;
  image?: string;
  mainApplicationFile?: string;
  mainClass?: string;
  arguments?: string[];
  sparkVersion?: string;
  driver?: RoleSpec;
  executor?: RoleSpec;
  volumes?: unknown[];
  nodeSelector?: Record<string, string>;
}

export function withSparkOperator(): (parts: SimParts) => Hooks {
  return ({ store, handlers }) => {
    // Deferred: a listener that writes while the store notifies would deliver a later
    // resourceVersion to watches before an earlier one.
    store.subscribe((event) => {
      if (event.resource === "pods" && event.object.metadata.labels?.[APP_LABEL] !== undefined) {
        setImmediate(() => followDriver(store, event));
      }
    });
    return {
      validate(resource, object) {
        if (resource === "sparkapplications") validateSparkApplication(object);
      },
      afterCreate(resource, object) {
        if (resource === "sparkapplications") setImmediate(() => submit(store, handlers, object));
      },
    };
  };
}

/** The shape the CRD's schema and the operator's webhook require; 422 otherwise. */
export function validateSparkApplication(app: KubeObject): void {
  const spec = app.spec as SparkSpec | undefined;
  const causes: StatusCause[] = [];
  const required = (field: string, ok: boolean) => {
    if (!ok) causes.push({ field, message: "Required value", reason: "FieldValueRequired" });
  };
  if (spec === undefined || typeof spec !== "object") {
    required("spec", false);
  } else {
    const types = ["Java", "Python", "Scala", "R"];
    required("spec.type", spec.type !== undefined);
    if (spec.type !== undefined && !types.includes(spec.type)) {
      causes.push({
        field: "spec.type",
        message: `Unsupported value: ${JSON.stringify(spec.type)}: supported values: "Java", "Python", "Scala", "R"`,
        reason: "FieldValueNotSupported",
      });
    }
    if (spec.mode !== undefined && !["cluster", "client", "in-cluster-client"].includes(spec.mode)) {
      causes.push({
        field: "spec.mode",
        message: `Unsupported value: ${JSON.stringify(spec.mode)}: supported values: "cluster", "client", "in-cluster-client"`,
        reason: "FieldValueNotSupported",
      });
    }
    required("spec.sparkVersion", typeof spec.sparkVersion === "string" && spec.sparkVersion !== "");
    required(
      "spec.mainApplicationFile",
      typeof spec.mainApplicationFile === "string" && spec.mainApplicationFile !== "",
    );
    required("spec.driver", typeof spec.driver === "object" && spec.driver !== null);
    required("spec.executor", typeof spec.executor === "object" && spec.executor !== null);
    required("spec.image", typeof (spec.driver?.image ?? spec.image) === "string");
    if (
      spec.arguments !== undefined &&
      (!Array.isArray(spec.arguments) || spec.arguments.some((a) => typeof a !== "string"))
    ) {
      causes.push({ field: "spec.arguments", message: "Invalid value: must be an array of strings" });
    }
    for (const role of ["driver", "executor"] as const) {
      const cores = spec[role]?.cores;
      if (cores !== undefined && (typeof cores !== "number" || cores < 1))
        causes.push({
          field: `spec.${role}.cores`,
          message: `Invalid value: ${JSON.stringify(cores)}: must be an integer ≥ 1`,
        });
    }
  }
  if (causes.length > 0) throw invalid("SparkApplication", app.metadata.name, causes, SPARK_GROUP);
}

function submit(store: Store, handlers: Handlers, app: KubeObject): void {
  const ns = app.metadata.namespace!;
  const name = app.metadata.name;
  const spec = app.spec as SparkSpec;
  const appId = `spark-${randomBytes(16).toString("hex")}`;
  const driverName = spec.driver?.podName ?? `${name}-driver`;
  const now = nowSeconds();
  setStatus(store, ns, name, () => ({
    applicationState: { state: "SUBMITTED" },
    sparkApplicationId: appId,
    submissionID: randomUUID(),
    lastSubmissionAttemptTime: now,
    submissionAttempts: 1,
    executionAttempts: 1,
    driverInfo: { podName: driverName, webUIPort: 4040, webUIServiceName: `${name}-ui-svc` },
  }));
  try {
    handlers.create(
      { resource: "pods", group: "", namespace: ns },
      driverPod(app, appId, driverName),
      new URLSearchParams(),
    );
  } catch (err) {
    const message = err instanceof ApiError ? err.message : String(err);
    setStatus(store, ns, name, (s) => ({
      ...s,
      applicationState: {
        state: "SUBMISSION_FAILED",
        errorMessage: `failed to run spark-submit: ${message}`,
      },
      terminationTime: nowSeconds(),
    }));
  }
}

/**
 * The driver Pod: command `spark-submit` (map it to a local program in the image's `commands`),
 * args `[--class mainClass] mainApplicationFile-without-local:// ...spec.arguments`.
 */
function driverPod(app: KubeObject, appId: string, podName: string): KubeObject {
  const spec = app.spec as SparkSpec;
  const driver = spec.driver ?? {};
  const file = spec.mainApplicationFile!.replace(/^local:\/\//, "");
  const resources: { requests: Record<string, string>; limits: Record<string, string> } = {
    requests: { cpu: String(driver.cores ?? 1) },
    limits: {},
  };
  const memory = quantity(driver.memory);
  if (memory !== undefined) {
    resources.requests.memory = memory;
    resources.limits.memory = memory;
  }
  if (driver.coreLimit !== undefined) resources.limits.cpu = driver.coreLimit;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: podName,
      namespace: app.metadata.namespace!,
      uid: "",
      resourceVersion: "",
      creationTimestamp: "",
      labels: {
        ...(driver.labels ?? {}),
        "spark-role": "driver",
        "spark-app-selector": appId,
        "spark-app-name": app.metadata.name,
        [APP_LABEL]: app.metadata.name,
        "sparkoperator.k8s.io/launched-by-spark-operator": "true",
        ...(spec.sparkVersion === undefined ? {} : { "spark-version": spec.sparkVersion }),
      },
      ...(driver.annotations === undefined ? {} : { annotations: driver.annotations }),
      ownerReferences: [
        {
          apiVersion: `${SPARK_GROUP}/${SPARK_VERSION}`,
          kind: "SparkApplication",
          name: app.metadata.name,
          uid: app.metadata.uid,
          controller: true,
        },
      ],
    },
    spec: {
      restartPolicy: "Never",
      serviceAccountName: driver.serviceAccount ?? "default",
      ...(spec.volumes === undefined ? {} : { volumes: spec.volumes }),
      ...(spec.nodeSelector === undefined && driver.nodeSelector === undefined
        ? {}
        : { nodeSelector: { ...spec.nodeSelector, ...driver.nodeSelector } }),
      ...(driver.tolerations === undefined ? {} : { tolerations: driver.tolerations }),
      containers: [
        {
          name: "spark-kubernetes-driver",
          image: driver.image ?? spec.image,
          command: ["spark-submit"],
          args: [
            ...(spec.mainClass === undefined ? [] : ["--class", spec.mainClass]),
            file,
            ...(spec.arguments ?? []),
          ],
          env: [
            { name: "SPARK_APPLICATION_ID", value: appId },
            { name: "SPARK_DRIVER_POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
            ...(driver.env ?? []),
          ],
          ...(driver.envFrom === undefined ? {} : { envFrom: driver.envFrom }),
          ...(driver.volumeMounts === undefined ? {} : { volumeMounts: driver.volumeMounts }),
          resources,
        },
      ],
    },
  };
}

/** Spark's "512m" / "2g" (MiB, GiB) as a Kubernetes quantity; other forms are left out. */
function quantity(memory: string | undefined): string | undefined {
  const m = /^(\d+)([kmgt])b?$/i.exec(memory ?? "");
  if (m === null) return undefined;
  return `${m[1]}${{ k: "Ki", m: "Mi", g: "Gi", t: "Ti" }[m[2]!.toLowerCase() as "k" | "m" | "g" | "t"]}`;
}

/** The application follows its driver Pod's phase. */
function followDriver(store: Store, event: StoreEvent): void {
  const pod = event.object;
  const ns = pod.metadata.namespace!;
  const appName = pod.metadata.labels![APP_LABEL]!;
  const app = store.get("sparkapplications", ns, appName);
  if (app === undefined) return;
  const owner = (pod.metadata.ownerReferences ?? []).some((r) => r.uid === app.metadata.uid);
  if (!owner) return;
  const status = (pod.status ?? {}) as {
    phase?: string;
    reason?: string;
    message?: string;
    containerStatuses?: { state?: { terminated?: { exitCode: number; reason?: string } } }[];
  };
  setStatus(store, ns, appName, (s) => {
    const state = (s.applicationState as { state?: string } | undefined)?.state ?? "";
    if (TERMINAL.has(state)) return s;
    if (event.type === "DELETED")
      return {
        ...s,
        applicationState: { state: "FAILED", errorMessage: "driver pod not found" },
        terminationTime: nowSeconds(),
      };
    const driverInfo = { ...(s.driverInfo as object), podName: pod.metadata.name };
    switch (status.phase) {
      case "Running":
        return { ...s, driverInfo, applicationState: { state: "RUNNING" } };
      case "Succeeded":
        return { ...s, driverInfo, applicationState: { state: "COMPLETED" }, terminationTime: nowSeconds() };
      case "Failed": {
        const t = status.containerStatuses?.[0]?.state?.terminated;
        const errorMessage =
          status.reason === "Evicted"
            ? `driver pod evicted: ${status.message ?? ""}`
            : `driver container failed with ExitCode: ${t?.exitCode ?? -1}, Reason: ${t?.reason ?? "Unknown"}`;
        return {
          ...s,
          driverInfo,
          applicationState: { state: "FAILED", errorMessage },
          terminationTime: nowSeconds(),
        };
      }
      default:
        return s;
    }
  });
}

/** Writes the status when it changed (an unchanged write would still be a MODIFIED event). */
function setStatus(
  store: Store,
  ns: string,
  name: string,
  change: (status: Record<string, unknown>) => Record<string, unknown>,
): void {
  const current = store.get("sparkapplications", ns, name);
  if (current === undefined) return;
  const before = (current.status ?? {}) as Record<string, unknown>;
  if (JSON.stringify(change(structuredClone(before))) === JSON.stringify(before)) return;
  store.mutate("sparkapplications", ns, name, (app) => {
    app.status = change((app.status ?? {}) as Record<string, unknown>);
  });
}
