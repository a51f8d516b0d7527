import { dirname } from "node:path";
import { UpdraftError } from "../../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../../base-operator.js";
import { isDeferred, OptionChecker } from "./check-options.js";
import { pick, tryIdentity } from "./pod-operator.js";
import { loadApplication, manifestName, prepareApplication } from "./spark-application.js";
import { resolveTarget } from "./target.js";
import type { SparkKubernetesOperatorOptions } from "./types.js";
import { containerLine, operatorLog } from "./task-output.js";

const SPARK_FIELDS = [
  "applicationFile",
  "templateSpec",
  "namespace",
  "kubernetesConnId",
  "image",
  "codePath",
  "name",
  "deleteOnTermination",
  "getLogs",
  "startupTimeoutSeconds",
  "inCluster",
  "clusterContext",
  "configFile",
] as const;

/** Airflow's defaults for this operator. */
const DEFAULT_STARTUP_TIMEOUT_S = 600;
const DEFAULT_NAMESPACE = "default";
const MARKER = "spark_kubernetes_operator";
/** The driver Pod is `<name>-driver`: the name leaves room for it within 63 characters. */
const NAME_MAX = 63 - "-driver".length;

function checkSparkOptions(o: SparkKubernetesOperatorOptions): void {
  const c = new OptionChecker("SparkKubernetesOperator", o.taskId);
  if (o.applicationFile === undefined && o.templateSpec === undefined)
    c.fail(
      'give applicationFile (a .yaml/.json file next to the DAG file, or the manifest\'s text) or templateSpec (the manifest as an object), e.g. applicationFile: "spark-pi.yaml".',
    );
  if (o.applicationFile !== undefined && o.templateSpec !== undefined)
    c.fail("give applicationFile or templateSpec, not both.");
  c.optionalString("applicationFile", o.applicationFile);
  if (
    o.templateSpec !== undefined &&
    !isDeferred(o.templateSpec) &&
    (typeof o.templateSpec !== "object" || o.templateSpec === null || Array.isArray(o.templateSpec))
  )
    c.fail(`templateSpec must be the SparkApplication as an object, got ${JSON.stringify(o.templateSpec)}.`);
  c.namespace(o.namespace);
  c.optionalString("name", o.name);
  c.optionalString("image", o.image);
  c.optionalString("codePath", o.codePath);
  for (const b of ["deleteOnTermination", "getLogs", "inCluster"] as const) c.optionalBoolean(b, o[b]);
  c.positiveNumber("startupTimeoutSeconds", o.startupTimeoutSeconds);
}

/**
 * Submits a SparkApplication (the Spark operator's custom resource, `sparkoperator.k8s.io/v1beta2`)
 * and waits for it: COMPLETED succeeds, FAILED or SUBMISSION_FAILED fails the task with the
 * application's error message. The driver's log streams into the task log; the application is
 * deleted at the end (unless `deleteOnTermination: false`) and at once when the try is killed.
 *
 * @example
 * ```ts
 * new SparkKubernetesOperator({ taskId: "etl", namespace: "spark", applicationFile: "spark-etl.yaml" });
 * ```
 */
export class SparkKubernetesOperator extends BaseOperator {
  readonly operatorName = "SparkKubernetesOperator";
  readonly templateFields = [
    "applicationFile",
    "templateSpec",
    "namespace",
    "image",
    "codePath",
    "name",
    "kubernetesConnId",
  ] as const;
  private active: { kill(): Promise<void> } | null = null;

  constructor(options: SparkKubernetesOperatorOptions) {
    super(options, pick(options, SPARK_FIELDS), SPARK_FIELDS);
    checkSparkOptions(options);
  }

  async execute({ ctx, fields, signal, render }: ExecuteInput): Promise<unknown> {
    const kube = await import("../../../kube/operators.js");
    const { target, defaultNamespace } = await resolveTarget(fields, ctx);
    const kc = await kube.loadOperatorKubeConfig(target);
    const dagFile = this.callSite.file();
    const body = loadApplication(
      fields,
      dagFile === undefined ? undefined : dirname(dagFile),
      kube.parseYaml,
      this.taskId,
      render,
    );
    const namespace = (fields.namespace as string | undefined) ?? defaultNamespace ?? DEFAULT_NAMESPACE;
    const id = tryIdentity(ctx);
    const name = kube.tryObjectName(
      String(fields.name ?? manifestName(body) ?? ctx.ti.task_id),
      id,
      NAME_MAX,
    );
    const application = prepareApplication(
      body,
      {
        name,
        namespace,
        labels: kube.tryLabels(id, MARKER),
        annotations: kube.tryAnnotations(id),
        image: fields.image as string | undefined,
        codePath: fields.codePath as string | undefined,
      },
      this.taskId,
    );
    const run = await kube.SparkRun.create({
      kc,
      application,
      getLogs: fields.getLogs !== false,
      startupTimeoutMs:
        ((fields.startupTimeoutSeconds as number | undefined) ?? DEFAULT_STARTUP_TIMEOUT_S) * 1000,
      deleteOnTermination: fields.deleteOnTermination !== false,
      signal,
      log: operatorLog,
      containerLine,
    });
    this.active = run;
    let result;
    try {
      result = await run.run();
    } finally {
      this.active = null;
    }
    if (result.state !== "COMPLETED") {
      throw new UpdraftError(
        "KUBERNETES_SPARK_FAILED",
        `SparkApplication ${namespace}/${name} ended ${result.state}: ${result.errorMessage ?? "the Spark operator gave no error message"}. The driver's log (above, with getLogs) tells why.`,
        { details: { application: name, namespace, state: result.state } },
      );
    }
    return undefined;
  }

  override async onKill(): Promise<void> {
    await this.active?.kill();
  }
}
