import { UpdraftError } from "../../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../../base-operator.js";
import type { TaskContext } from "../../context.js";
import { mappedOperator, type MappedBuilder } from "../../mapping.js";
import { TaskSkipped } from "../../signals.js";
import { OptionChecker } from "./check-options.js";
import { BASE_CONTAINER, buildPodManifest } from "./pod-spec.js";
import { resolveTarget } from "./target.js";
import type { KubernetesPodOperatorOptions, OnFinishAction } from "./types.js";
import { XCOM_SIDECAR_NAME, xcomTextFromSidecarLog } from "./xcom-sidecar.js";
import { containerLine, operatorLog } from "./task-output.js";

const KPO_FIELDS = [
  "name",
  "namespace",
  "image",
  "cmds",
  "arguments",
  "resources",
  "envVars",
  "envFrom",
  "labels",
  "annotations",
  "nodeSelector",
  "tolerations",
  "affinity",
  "serviceAccountName",
  "imagePullPolicy",
  "imagePullSecrets",
  "volumes",
  "volumeMounts",
  "isDeleteOperatorPod",
  "onFinishAction",
  "getLogs",
  "startupTimeoutSeconds",
  "doXcomPush",
  "skipOnExitCode",
  "kubernetesConnId",
  "inCluster",
  "clusterContext",
  "configFile",
] as const;

/** Airflow's default startup_timeout_seconds. */
const DEFAULT_STARTUP_TIMEOUT_S = 120;
/** The label Airflow puts on the Pods of this operator. */
const POD_MARKER = "kubernetes_pod_operator";

export function pick(options: object, names: readonly string[]): Record<string, unknown> {
  const src = options as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const n of names) if (src[n] !== undefined) out[n] = src[n];
  return out;
}

/** onFinishAction wins; else isDeleteOperatorPod (true: delete_pod, false: keep_pod); default delete_pod. */
export function finishAction(fields: Record<string, unknown>): OnFinishAction {
  const explicit = fields.onFinishAction as OnFinishAction | undefined;
  if (explicit !== undefined) return explicit;
  return fields.isDeleteOperatorPod === false ? "keep_pod" : "delete_pod";
}

function checkPodOptions(o: KubernetesPodOperatorOptions): void {
  const c = new OptionChecker("KubernetesPodOperator", o.taskId);
  c.requiredString("image", o.image, 'the container image to run, e.g. image: "python:3.12-slim"');
  c.optionalString("name", o.name);
  c.namespace(o.namespace);
  c.stringList("cmds", o.cmds);
  c.stringList("arguments", o.arguments);
  c.resources(o.resources);
  c.stringMap("envVars", o.envVars);
  c.stringMap("labels", o.labels);
  c.stringMap("annotations", o.annotations);
  c.stringMap("nodeSelector", o.nodeSelector);
  c.tolerations(o.tolerations);
  for (const b of ["isDeleteOperatorPod", "getLogs", "doXcomPush", "inCluster"] as const)
    c.optionalBoolean(b, o[b]);
  c.positiveNumber("startupTimeoutSeconds", o.startupTimeoutSeconds);
  c.oneOf("onFinishAction", o.onFinishAction, ["delete_pod", "delete_succeeded_pod", "keep_pod"]);
  c.oneOf("imagePullPolicy", o.imagePullPolicy, ["Always", "IfNotPresent", "Never"]);
  if (o.envFrom !== undefined && !Array.isArray(o.envFrom))
    c.fail(
      `envFrom must be a list such as [{ secretRef: { name: "aws-credentials" } }], got ${JSON.stringify(o.envFrom)}.`,
    );
  for (const e of o.envFrom ?? []) {
    if (e.secretRef === undefined && e.configMapRef === undefined)
      c.fail(`each envFrom entry needs secretRef or configMapRef with a name, got ${JSON.stringify(e)}.`);
  }
}

/**
 * Runs a container in its own Kubernetes Pod, whatever executor runs the other tasks: creates the
 * Pod, streams its log into the task log while it runs, fails the task with the container's exit
 * code and reason, deletes the Pod at the end (or keeps it, as asked), and deletes it at once
 * when the try is killed or times out.
 *
 * @example
 * ```ts
 * new KubernetesPodOperator({
 *   taskId: "train_model", name: "model-training", namespace: "airflow", image: "my-registry.io/ml-trainer:v3.1.0",
 *   cmds: ["python", "/app/train.py"], arguments: ["--date", "{{ ds }}"],
 *   resources: { requests: { cpu: "4", memory: "16Gi" } }, isDeleteOperatorPod: true, getLogs: true,
 * });
 * ```
 */
export class KubernetesPodOperator extends BaseOperator {
  readonly operatorName = "KubernetesPodOperator";
  readonly templateFields = [
    "image",
    "name",
    "cmds",
    "arguments",
    "envVars",
    "labels",
    "annotations",
    "namespace",
    "resources",
    "volumes",
    "volumeMounts",
    "envFrom",
    "nodeSelector",
    "configFile",
    "clusterContext",
    "kubernetesConnId",
  ] as const;
  static readonly mappableFields = ["image", "cmds", "arguments", "envVars", "labels", "resources"] as const;
  /** The try's Pod while execute runs, for onKill. */
  private active: { kill(): Promise<void> } | null = null;

  constructor(options: KubernetesPodOperatorOptions) {
    super(options, pick(options, KPO_FIELDS), KPO_FIELDS);
    checkPodOptions(options);
  }

  /** Starts a mapped KubernetesPodOperator. */
  static partial(
    options: Partial<KubernetesPodOperatorOptions> & { taskId: string },
  ): MappedBuilder<
    KubernetesPodOperatorOptions,
    "image" | "cmds" | "arguments" | "envVars" | "labels" | "resources"
  > {
    return mappedOperator(KubernetesPodOperator, options, KubernetesPodOperator.mappableFields);
  }

  async execute({ ctx, fields, signal }: ExecuteInput): Promise<unknown> {
    // The client (and everything that uses it) loads only now, never when the DAG file is parsed.
    const kube = await import("../../../kube/operators.js");
    const { target, defaultNamespace, xcomSidecarImage } = await resolveTarget(fields, ctx);
    const kc = await kube.loadOperatorKubeConfig(target);
    const namespace = (fields.namespace as string | undefined) ?? defaultNamespace ?? "default";
    const id = tryIdentity(ctx);
    const name = kube.tryObjectName(String(fields.name ?? ctx.ti.task_id), id);
    const manifest = buildPodManifest(
      fields,
      { name, namespace, labels: kube.tryLabels(id, POD_MARKER), annotations: kube.tryAnnotations(id) },
      xcomSidecarImage,
    );
    const xcom = fields.doXcomPush === true;
    const run = await kube.PodRun.create({
      kc,
      manifest,
      baseContainer: BASE_CONTAINER,
      xcomSidecar: xcom ? XCOM_SIDECAR_NAME : null,
      getLogs: fields.getLogs !== false,
      startupTimeoutMs:
        ((fields.startupTimeoutSeconds as number | undefined) ?? DEFAULT_STARTUP_TIMEOUT_S) * 1000,
      onFinish: finishAction(fields),
      instanceSelector: kube.selectorOf(kube.taskInstanceLabels(id, POD_MARKER)),
      tryNumber: id.tryNumber,
      signal,
      log: operatorLog,
      containerLine,
    });
    this.active = run;
    let result;
    try {
      // As Airflow: where the Pod is, even if the try fails later.
      await ctx.ti.xcomPush("pod_name", name);
      await ctx.ti.xcomPush("pod_namespace", namespace);
      result = await run.run();
    } finally {
      this.active = null;
    }
    const { end } = result;
    if (end.exitCode !== 0) {
      const skip = fields.skipOnExitCode;
      const skipCodes = skip === undefined ? [] : Array.isArray(skip) ? skip : [skip];
      if (skipCodes.includes(end.exitCode))
        throw new TaskSkipped(`Pod ${namespace}/${name} returned exit code ${end.exitCode}: task skipped.`);
      const podWhy =
        result.reason !== undefined && result.reason !== end.reason
          ? ` The Pod ended ${result.phase} (${result.reason}${result.message ? `: ${result.message}` : ""}).`
          : "";
      // No end of its own: the whole Pod was stopped (evicted, past its deadline).
      const what =
        end.exitCode === -1
          ? `the Pod ended ${result.phase ?? "Failed"} (${end.reason ?? "no reason given"}${end.message ? `: ${end.message}` : ""}) before its container ${BASE_CONTAINER} did. ${end.reason === "Evicted" ? "The node ran short of a resource: raise the requests so that it is scheduled where they fit, and run the task again." : ""}`.trim()
          : `${kube.describeEnd(end, BASE_CONTAINER)}${podWhy}`;
      throw new UpdraftError("KUBERNETES_POD_FAILED", `Pod ${namespace}/${name} failed: ${what}`, {
        details: {
          pod: name,
          namespace,
          exit_code: end.exitCode,
          ...(end.reason === undefined ? {} : { reason: end.reason }),
        },
      });
    }
    if (!xcom) return undefined;
    return parseXcom(
      result.sidecarLines ?? [],
      `${namespace}/${name}`,
      finishAction(fields) !== "delete_pod",
    );
  }

  override async onKill(): Promise<void> {
    await this.active?.kill();
  }
}

export function tryIdentity(ctx: TaskContext): {
  dagId: string;
  taskId: string;
  runId: string;
  mapIndex: number;
  tryNumber: number;
} {
  return {
    dagId: ctx.ti.dag_id,
    taskId: ctx.ti.task_id,
    runId: ctx.ti.run_id,
    mapIndex: ctx.ti.map_index,
    tryNumber: ctx.ti.try_number,
  };
}

/** The XCom value from the sidecar's output: the JSON of return.json, or undefined when it was empty. */
export function parseXcom(lines: readonly string[], pod: string, kept = false): unknown {
  const text = xcomTextFromSidecarLog(lines);
  if (text === undefined) {
    // A kept Pod's sidecar is stopped by a one-second spec.activeDeadlineSeconds (decision 0024).
    const keptHint = kept
      ? ' The Pod was kept, so its sidecar was stopped through spec.activeDeadlineSeconds: if the cluster did not enforce it, use onFinishAction "delete_pod" with doXcomPush.'
      : "";
    throw new UpdraftError(
      "KUBERNETES_XCOM_INVALID",
      `The XCom sidecar of Pod ${pod} printed no result before it stopped. Check that the sidecar image (connection extra xcom_sidecar_container_image) has sh, cat and sleep.${keptHint}`,
    );
  }
  if (text === null || text.trim() === "") return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UpdraftError(
      "KUBERNETES_XCOM_INVALID",
      `Pod ${pod} wrote /airflow/xcom/return.json, but it is not JSON (${err instanceof Error ? err.message : String(err)}): ${text.slice(0, 200)}. Write the result with json.dump (or JSON.stringify).`,
    );
  }
}
