// The SparkApplication a SparkKubernetesOperator try submits: read from a file next to the DAG
// file, YAML/JSON text or an object; named and labelled for the try; image and main file
// replaced when the operator says so. Pure, except reading the file.
import { readFileSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { UpdraftError } from "../../../common/errors.js";

export const SPARK_API_VERSION = "sparkoperator.k8s.io/v1beta2";
export const SPARK_KIND = "SparkApplication";

type Obj = Record<string, unknown>;

const FILE_NAME = /^[^\n{}]+\.(ya?ml|json)$/i;

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function fail(taskId: string, message: string): never {
  throw new UpdraftError("INVALID_TASK", `SparkKubernetesOperator "${taskId}": ${message}`);
}

/**
 * The manifest as an object: `templateSpec`, or `applicationFile` read as a file (a `.yaml`,
 * `.yml` or `.json` path, relative to the DAG file's folder) or parsed as YAML/JSON text.
 * Airflow's `{ spark: {...}, kubernetes: {...} }` wrapper is unwrapped to its `spark` part.
 */
export function loadApplication(
  fields: Obj,
  dagFolder: string | undefined,
  parseYaml: (text: string) => unknown,
  taskId: string,
  render: (template: string, field: string) => string = (t) => t,
): Obj {
  let body: unknown = fields.templateSpec;
  const file = fields.applicationFile;
  if (body === undefined && typeof file === "string") {
    let text = file;
    let where = "applicationFile";
    if (FILE_NAME.test(file.trim())) {
      const path = isAbsolute(file.trim()) ? file.trim() : resolve(dagFolder ?? process.cwd(), file.trim());
      try {
        text = readFileSync(path, "utf8");
      } catch (err) {
        fail(
          taskId,
          `applicationFile ${path} cannot be read (${err instanceof Error ? err.message : String(err)}). A relative path is read from the DAG file's folder${dagFolder === undefined ? "" : ` (${dagFolder})`}.`,
        );
      }
      where = path;
      // A file's text is a template too, as Airflow's template_ext makes it ({{ ds }} in the manifest).
      text = render(text, "applicationFile");
    }
    try {
      body = parseYaml(text);
    } catch (err) {
      fail(taskId, `${where} is not valid YAML or JSON: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if (isObj(body) && isObj(body.spark) && body.kind === undefined) body = body.spark;
  if (!isObj(body))
    fail(
      taskId,
      `the SparkApplication must be an object (apiVersion, kind, metadata, spec), got ${JSON.stringify(body)?.slice(0, 200)}.`,
    );
  return body;
}

export interface ApplicationIdentity {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  image?: string | undefined;
  codePath?: string | undefined;
}

/** A copy of the manifest with the try's name, namespace and labels (on the driver and executors too). */
export function prepareApplication(body: Obj, id: ApplicationIdentity, taskId: string): Obj {
  const app = structuredClone(body);
  app.apiVersion ??= SPARK_API_VERSION;
  app.kind ??= SPARK_KIND;
  if (app.kind !== SPARK_KIND) fail(taskId, `the manifest is a ${String(app.kind)}, not a ${SPARK_KIND}.`);
  if (typeof app.apiVersion !== "string" || !app.apiVersion.startsWith("sparkoperator.k8s.io/"))
    fail(
      taskId,
      `apiVersion ${JSON.stringify(app.apiVersion)} is not the Spark operator's (${SPARK_API_VERSION}).`,
    );
  if (!isObj(app.spec)) fail(taskId, "the SparkApplication has no spec.");
  const meta = isObj(app.metadata) ? app.metadata : {};
  app.metadata = {
    ...meta,
    name: id.name,
    namespace: id.namespace,
    labels: { ...(meta.labels as Obj | undefined), ...id.labels },
    annotations: { ...(meta.annotations as Obj | undefined), ...id.annotations },
  };
  const spec = app.spec;
  if (id.image !== undefined) spec.image = id.image;
  if (id.codePath !== undefined) spec.mainApplicationFile = id.codePath;
  // The driver and executor Pods carry the try's labels: `kubectl get pods -l dag_id=…` finds them.
  for (const role of ["driver", "executor"]) {
    const part = isObj(spec[role]) ? spec[role] : {};
    spec[role] = { ...part, labels: { ...(part.labels as Obj | undefined), ...id.labels } };
  }
  return app;
}

/** The name the manifest asks for, else undefined. */
export function manifestName(body: Obj): string | undefined {
  const name = isObj(body.metadata) ? body.metadata.name : undefined;
  return typeof name === "string" && name !== "" ? name : undefined;
}
