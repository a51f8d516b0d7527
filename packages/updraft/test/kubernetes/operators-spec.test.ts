// The pure parts of the Kubernetes operators: the Pod and SparkApplication they build (validated
// against the Kubernetes schema), names and labels of a try, parse-time checks, the XCom sidecar's output.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Pod } from "kubernetes-models/v1";
import { afterAll, describe, expect, it } from "vitest";
import { loadYaml } from "@kubernetes/client-node";
import {
  dag,
  KubernetesPodOperator,
  SparkKubernetesOperator,
  takeRegisteredDags,
} from "../../src/sdk/index.js";
import { tryAnnotations, tryLabels, tryObjectName } from "../../src/kube/pod-names.js";
import { checkPodOptionsForTest } from "./operators-helpers.js";
import { buildPodManifest } from "../../src/sdk/operators/kubernetes/pod-spec.js";
import { parseXcom, finishAction } from "../../src/sdk/operators/kubernetes/pod-operator.js";
import { loadApplication, prepareApplication } from "../../src/sdk/operators/kubernetes/spark-application.js";
import { parseQuantity } from "../../src/sdk/operators/kubernetes/check-options.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";

/** Manifests are read as loose JSON in the assertions below. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

afterAll(() => {
  takeRegisteredDags();
  cleanupTempDirs();
});

const ID = {
  dagId: "ml_training_pipeline",
  taskId: "train_model",
  runId: "scheduled__2026-11-22T02:00:00+00:00",
  mapIndex: -1,
  tryNumber: 1,
};

/** The train_model task of examples/dags/ml_training_pipeline.ts, rendered. */
const TRAIN_FIELDS = {
  name: "model-training",
  namespace: "airflow",
  image: "my-registry.io/ml-trainer:v3.1.0",
  cmds: ["python", "/app/train.py"],
  arguments: ["--features", "s3://ml-data/features/2026-11-22/", "--epochs", "50"],
  resources: {
    requests: { cpu: "4", memory: "16Gi", "nvidia.com/gpu": "1" },
    limits: { memory: "16Gi", "nvidia.com/gpu": "1" },
  },
  envVars: { AWS_REGION: "us-east-1" },
  envFrom: [{ secretRef: { name: "aws-credentials" } }],
  nodeSelector: { accelerator: "nvidia-tesla-t4" },
  tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
  isDeleteOperatorPod: true,
  getLogs: true,
  startupTimeoutSeconds: 600,
};

function identity(id = ID) {
  return {
    name: tryObjectName("model-training", id),
    namespace: "airflow",
    labels: tryLabels(id, "kubernetes_pod_operator"),
    annotations: tryAnnotations(id),
  };
}

describe("the Pod of a KubernetesPodOperator try", () => {
  it("carries every argument of ml_training_pipeline's train_model and is a valid Pod", () => {
    const pod = buildPodManifest(TRAIN_FIELDS, identity()) as Loose;
    new Pod(pod as never).validate();
    expect(pod.metadata.namespace).toBe("airflow");
    expect(pod.spec.restartPolicy).toBe("Never");
    expect(pod.spec.nodeSelector).toEqual({ accelerator: "nvidia-tesla-t4" });
    expect(pod.spec.tolerations).toEqual(TRAIN_FIELDS.tolerations);
    const [base] = pod.spec.containers;
    expect(base.name).toBe("base");
    expect(base.command).toEqual(["python", "/app/train.py"]);
    expect(base.args).toEqual(TRAIN_FIELDS.arguments);
    expect(base.resources.limits["nvidia.com/gpu"]).toBe("1");
    expect(base.env).toEqual([{ name: "AWS_REGION", value: "us-east-1" }]);
    expect(base.envFrom).toEqual([{ secretRef: { name: "aws-credentials" } }]);
    expect(pod.metadata.labels).toMatchObject({
      dag_id: "ml_training_pipeline",
      task_id: "train_model",
      try_number: "1",
      kubernetes_pod_operator: "true",
    });
    // The run id has ":" and "+": shortened for the label, whole in the annotation.
    expect(pod.metadata.labels.run_id).toMatch(/^[A-Za-z0-9._-]{1,63}$/);
    expect(pod.metadata.annotations["updraft.io/run-id"]).toBe(ID.runId);
    expect(pod.spec.containers).toHaveLength(1);
  });

  it("adds the XCom sidecar, its emptyDir and the mount when doXcomPush, still a valid Pod", () => {
    const pod = buildPodManifest(
      {
        ...TRAIN_FIELDS,
        doXcomPush: true,
        volumeMounts: [{ name: "data", mountPath: "/data" }],
        volumes: [{ name: "data", emptyDir: {} }],
      },
      identity(),
      "busybox:1.36",
    ) as Loose;
    new Pod(pod as never).validate();
    expect(pod.spec.containers.map((c: { name: string }) => c.name)).toEqual([
      "base",
      "airflow-xcom-sidecar",
    ]);
    expect(pod.spec.containers[1].image).toBe("busybox:1.36");
    expect(pod.spec.containers[0].volumeMounts).toEqual([
      { name: "xcom", mountPath: "/airflow/xcom" },
      { name: "data", mountPath: "/data" },
    ]);
    expect(pod.spec.volumes[0]).toEqual({ name: "xcom", emptyDir: {} });
    // The file is an argument of its own (tools that map mount paths see it), not inside the script.
    expect(pod.spec.containers[1].command.at(-1)).toBe("/airflow/xcom/return.json");
  });

  it("leaves out what was not asked (no command: the image's entrypoint)", () => {
    const pod = buildPodManifest({ image: "busybox" }, identity()) as Loose;
    new Pod(pod as never).validate();
    expect(pod.spec.containers[0]).toEqual({ name: "base", image: "busybox" });
    expect(pod.spec.nodeSelector).toBeUndefined();
  });
});

describe("names and labels of a try", () => {
  it("are deterministic, DNS-safe, ≤ 63 characters and differ per try, run and map index", () => {
    const a = tryObjectName("model-training", ID);
    expect(tryObjectName("model-training", ID)).toBe(a);
    expect(a).toMatch(/^model-training-[a-z0-9-]+-try1$/);
    expect(a.length).toBeLessThanOrEqual(63);
    const others = [
      tryObjectName("model-training", { ...ID, tryNumber: 2 }),
      tryObjectName("model-training", { ...ID, runId: "manual__x" }),
      tryObjectName("model-training", { ...ID, mapIndex: 3 }),
    ];
    expect(new Set([a, ...others]).size).toBe(4);
    const long = tryObjectName("A_Very_Long_Name".repeat(10), { ...ID, tryNumber: 12 }, 56);
    expect(long.length).toBeLessThanOrEqual(56);
    expect(long).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it("label a mapped instance with its map index", () => {
    expect(tryLabels({ ...ID, mapIndex: 2 }, "m")).toMatchObject({ map_index: "2", m: "true" });
    expect(tryLabels(ID, "m")).not.toHaveProperty("map_index");
  });
});

describe("checks when the DAG file is parsed", () => {
  const make = (o: Record<string, unknown>) => () => checkPodOptionsForTest(o);

  it("accepts ml_training_pipeline's arguments", () => {
    expect(make({ ...TRAIN_FIELDS, arguments: ["--date", "{{ ds }}"] })).not.toThrow();
  });
  it("refuses a missing image", () => {
    expect(make({ name: "x" })).toThrow(/KubernetesPodOperator "t": image is required/);
  });
  it("refuses a quantity Kubernetes cannot read", () => {
    expect(make({ image: "i", resources: { requests: { memory: "4GB" } } })).toThrow(
      /"4GB" is not a Kubernetes quantity/,
    );
  });
  it("refuses requests above limits", () => {
    expect(
      make({ image: "i", resources: { requests: { memory: "16Gi" }, limits: { memory: "8Gi" } } }),
    ).toThrow(/requests\["memory"\] is above resources.limits/);
  });
  it("refuses a GPU request without the same limit", () => {
    expect(make({ image: "i", resources: { requests: { "nvidia.com/gpu": "1" } } })).toThrow(
      /needs the same value in resources.limits/,
    );
    expect(
      make({
        image: "i",
        resources: { requests: { "nvidia.com/gpu": "0.5" }, limits: { "nvidia.com/gpu": "0.5" } },
      }),
    ).toThrow(/whole number/);
  });
  it("refuses other keys in resources, and an Exists toleration with a value", () => {
    expect(make({ image: "i", resources: { request: { cpu: "1" } } })).toThrow(/only requests and limits/);
    expect(make({ image: "i", tolerations: [{ key: "k", operator: "Exists", value: "v" }] })).toThrow(
      /takes no value/,
    );
  });
  it("leaves templated and mapped values to run time", () => {
    expect(
      make({ image: "{{ params.image }}", resources: { requests: { memory: "{{ params.mem }}" } } }),
    ).not.toThrow();
    takeRegisteredDags();
    expect(() =>
      dag({ dagId: "mapped_kpo" }, () => {
        KubernetesPodOperator.partial({ taskId: "m", name: "m" }).expand({ image: ["a", "b"] });
      }),
    ).not.toThrow();
  });
  it("reads quantities as Kubernetes does", () => {
    expect(parseQuantity("500m")).toBe(0.5);
    expect(parseQuantity("4Gi")).toBe(4 * 2 ** 30);
    expect(parseQuantity("1e3")).toBe(1000);
    expect(parseQuantity("1.5")).toBe(1.5);
    expect(parseQuantity("4GB")).toBeUndefined();
  });
  it("SparkKubernetesOperator needs applicationFile or templateSpec", () => {
    takeRegisteredDags();
    expect(() =>
      dag({ dagId: "spark_none" }, () => void new SparkKubernetesOperator({ taskId: "s" })),
    ).toThrow(/give applicationFile/);
  });
  it("maps isDeleteOperatorPod to Airflow's onFinishAction", () => {
    expect(finishAction({})).toBe("delete_pod");
    expect(finishAction({ isDeleteOperatorPod: false })).toBe("keep_pod");
    expect(finishAction({ isDeleteOperatorPod: true, onFinishAction: "delete_succeeded_pod" })).toBe(
      "delete_succeeded_pod",
    );
  });
});

describe("the XCom sidecar's output", () => {
  it("is the JSON between the markers, nothing for an empty file, an error otherwise", () => {
    expect(
      parseXcom(
        ["__updraft_xcom_begin__", '{"accuracy": 0.91,', '"model": "s3://m"}', "", "__updraft_xcom_end__"],
        "ns/p",
      ),
    ).toEqual({ accuracy: 0.91, model: "s3://m" });
    expect(parseXcom(["__updraft_xcom_empty__"], "ns/p")).toBeUndefined();
    expect(() => parseXcom(["__updraft_xcom_begin__", "not json", "__updraft_xcom_end__"], "ns/p")).toThrow(
      /ns\/p wrote \/airflow\/xcom\/return.json, but it is not JSON/,
    );
    expect(() => parseXcom([], "ns/p")).toThrow(/printed no result/);
  });
});

describe("the SparkApplication of a try", () => {
  const folder = tempDir("updraft-spark-spec-");
  mkdirSync(join(folder, "spark"));
  writeFileSync(
    join(folder, "spark", "pi.yaml"),
    "apiVersion: sparkoperator.k8s.io/v1beta2\nkind: SparkApplication\nmetadata:\n  name: spark-pi\n  labels: { team: data }\nspec:\n  type: Scala\n  mode: cluster\n  image: spark:3.5.0\n  mainClass: org.apache.spark.examples.SparkPi\n  mainApplicationFile: local:///opt/spark/examples/jars/spark-examples.jar\n  driver: { cores: 1, memory: 512m }\n  executor: { instances: 1, cores: 1, memory: 512m }\n",
  );

  it("reads a file relative to the DAG file's folder and labels driver and executors", () => {
    const body = loadApplication({ applicationFile: "spark/pi.yaml" }, folder, loadYaml, "t");
    const app = prepareApplication(
      body,
      {
        name: "spark-pi-abc-try1",
        namespace: "spark",
        labels: { dag_id: "d", try_number: "1" },
        annotations: {},
        codePath: "local:///app/main.py",
      },
      "t",
    ) as Loose;
    expect(app.metadata).toMatchObject({
      name: "spark-pi-abc-try1",
      namespace: "spark",
      labels: { team: "data", dag_id: "d" },
    });
    expect(app.spec.driver.labels).toEqual({ dag_id: "d", try_number: "1" });
    expect(app.spec.executor).toMatchObject({ instances: 1, labels: { dag_id: "d" } });
    expect(app.spec.mainApplicationFile).toBe("local:///app/main.py");
    expect(body.metadata).toEqual({ name: "spark-pi", labels: { team: "data" } });
  });
  it("renders the file's text as a template (Airflow's template_ext)", () => {
    writeFileSync(join(folder, "dated.yml"), 'kind: SparkApplication\nspec:\n  arguments: ["{{ ds }}"]\n');
    const render = (t: string, field: string) =>
      field === "applicationFile" ? t.replace("{{ ds }}", "2026-11-22") : t;
    expect(loadApplication({ applicationFile: "dated.yml" }, folder, loadYaml, "t", render)).toEqual({
      kind: "SparkApplication",
      spec: { arguments: ["2026-11-22"] },
    });
  });
  it("parses YAML or JSON text, and takes an object", () => {
    expect(
      loadApplication(
        { applicationFile: '{"kind": "SparkApplication", "spec": {"type": "Python"}}' },
        folder,
        loadYaml,
        "t",
      ),
    ).toMatchObject({ spec: { type: "Python" } });
    expect(
      loadApplication({ templateSpec: { spark: { spec: { type: "Java" } } } }, folder, loadYaml, "t"),
    ).toEqual({ spec: { type: "Java" } });
  });
  it("says which file is missing and refuses another kind", () => {
    expect(() => loadApplication({ applicationFile: "nope.yaml" }, folder, loadYaml, "t")).toThrow(
      /nope.yaml cannot be read/,
    );
    expect(() =>
      prepareApplication(
        { kind: "Pod", spec: {} },
        { name: "n", namespace: "d", labels: {}, annotations: {} },
        "t",
      ),
    ).toThrow(/is a Pod, not a SparkApplication/);
  });
});
