// The Kubernetes operators run through the whole engine (scheduler, LocalExecutor, real runner
// processes from dist/: run `npm run build` first) against the Kubernetes API simulator, through
// the official client: templated arguments, the container's log in the task log while it runs,
// XCom from the sidecar, failures with their reasons, Pods deleted or kept, killed tries.
import { copyFileSync, cpSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startKubeSim, type KubeSim, type KubeObject } from "../kube-sim/index.js";
import { EXAMPLES } from "../e2e/helpers.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { OperatorEngine, stateOf, until } from "./operators-engine.js";
import { taskInstanceLabels } from "../../src/kube/pod-names.js";

const FIXTURES = fileURLToPath(new URL("../fixtures/kubernetes/", import.meta.url));
const CONTAINER = join(FIXTURES, "container.mjs");
const python = { commands: { python: [process.execPath, CONTAINER] } };

function podsOf(sim: KubeSim, taskId: string): KubeObject[] {
  return sim.pods("airflow").filter((p) => p.metadata.labels?.["task_id"] === taskId);
}

/** The task's Pods are gone or going (deletion started). */
function podsDeleted(sim: KubeSim, taskId: string): true | undefined {
  return podsOf(sim, taskId).every((p) => p.metadata.deletionTimestamp !== undefined) ? true : undefined;
}

describe("Kubernetes operators through the engine, against the simulator", () => {
  let sim: KubeSim;
  let engine: OperatorEngine;

  beforeAll(async () => {
    sim = await startKubeSim({
      images: {
        "my-registry.io/spark-feature-prep": python,
        "my-registry.io/ml-trainer": python,
        "my-registry.io/ml-validator": python,
        "fixture/app": python,
        // The simulated Spark operator runs `spark-submit <main file> <arguments>` in the driver.
        "fixture/spark": { commands: { "spark-submit": [process.execPath, CONTAINER] } },
      },
      startDelayMs: 100,
    });
    process.env["KUBECONFIG"] = sim.kubeconfigPath;
    const kc = new KubeConfig();
    kc.loadFromFile(sim.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespace({ body: { metadata: { name: "airflow" } } }).catch(() => undefined);
    await core.createNamespacedSecret({
      namespace: "airflow",
      body: { metadata: { name: "aws-credentials" }, stringData: { AWS_ACCESS_KEY_ID: "AKIATEST" } },
    });
    sim.inject({ type: "OOMKilled", labelSelector: "task_id=oom", afterMs: 1500 });
    sim.inject({
      type: "Evicted",
      labelSelector: "task_id=evicted",
      afterMs: 1500,
      message: "The node was low on resource: memory.",
    });
    sim.inject({
      type: "Unschedulable",
      labelSelector: "task_id=unschedulable",
      message: "0/1 nodes are available: 1 Insufficient nvidia.com/gpu.",
    });
    await core.createNamespace({ body: { metadata: { name: "locked" } } });
    sim.inject({ type: "ApiError", method: "POST", path: "/namespaces/locked/pods", status: 403, count: 10 });
    // The simulator creates namespaces on first use: a missing one is injected as the 404 it would be.
    sim.inject({ type: "ApiError", method: "POST", path: "/namespaces/ghost/pods", status: 404, count: 10 });
    const home = tempDir("updraft-kube-operators-");
    const dags = join(home, "dags");
    mkdirSync(dags);
    copyFileSync(join(EXAMPLES, "ml_training_pipeline.ts"), join(dags, "ml_training_pipeline.ts"));
    cpSync(join(FIXTURES, "dags"), dags, { recursive: true });
    engine = await OperatorEngine.start(home, dags);
    await engine.addConnection("k8s_inline", "kubernetes", {
      kube_config: readFileSync(sim.kubeconfigPath, "utf8"),
      namespace: "airflow",
    });
    await engine.addConnection("k8s_broken", "kubernetes", {
      kube_config_path: join(home, "no-such-kubeconfig"),
    });
  }, 120_000);

  afterAll(async () => {
    await engine?.stop();
    await sim?.close();
    delete process.env["KUBECONFIG"];
    cleanupTempDirs();
  });

  it("runs ml_training_pipeline's three Pods to success with templated arguments, then deletes them", async () => {
    const run = "manual__ml";
    const ds = (await engine.trigger("ml_training_pipeline", run)).toISOString().slice(0, 10);
    await until(
      "the run to succeed",
      async () => {
        const s = await engine.runState("ml_training_pipeline", run);
        if (s === "failed")
          throw new Error(`run failed:\n${engine.log("ml_training_pipeline", run, "prepare_features")}`);
        return s === "success" ? s : undefined;
      },
      120_000,
    );
    const prep = engine.log("ml_training_pipeline", run, "prepare_features");
    expect(prep).toContain(
      `[base] argv: ${JSON.stringify(["/app/prepare_features.py", "--date", ds, "--output", "s3://ml-data/features/"])}`,
    );
    expect(prep).toContain("[base] credentials from the secret are set");
    const train = engine.log("ml_training_pipeline", run, "train_model");
    expect(train).toContain(
      `"--features","s3://ml-data/features/${ds}/","--model-output","s3://ml-models/${ds}/","--epochs","50"`,
    );
    expect(engine.log("ml_training_pipeline", run, "validate_model")).toContain(
      `"--model","s3://ml-models/${ds}/"`,
    );
    expect(engine.log("ml_training_pipeline", run, "notify_completion")).toContain(
      "ML Training Pipeline completed.",
    );
    for (const t of ["prepare_features", "train_model", "validate_model"])
      await until(`${t}'s Pod deleted`, () => podsDeleted(sim, t), 30_000);
  }, 150_000);

  it("streams the container's log into the task log while it runs, and pushes return.json as XCom", async () => {
    const run = "manual__xcom";
    const ds = (await engine.trigger("kpo_xcom", run)).toISOString().slice(0, 10);
    // The first step is in the task log while the container still has three to go.
    await until(
      "step 1 in the log while the task runs",
      async () => {
        const log = engine.log("kpo_xcom", run, "produce");
        const ti = await engine.ti("kpo_xcom", run, "produce");
        if (ti?.state === "success")
          throw new Error(`the task ended before its first line was seen:\n${log}`);
        return log.includes("[base] step 1 of 4") && !log.includes("step 4 of 4") && ti?.state === "running"
          ? true
          : undefined;
      },
      60_000,
    );
    expect(
      await stateOf(engine, "kpo_xcom", run, "consume", ["success", "failed", "upstream_failed"], 90_000),
    ).toBe("success");
    expect(await engine.xcom("kpo_xcom", run, "produce")).toEqual({ rows: 42, date: ds });
    expect(engine.log("kpo_xcom", run, "consume")).toContain(`pulled rows=42 date=${ds}`);
    expect(await engine.xcom("kpo_xcom", run, "produce", "pod_namespace")).toBe("airflow");
    await until("the producer's Pod deleted", () => podsDeleted(sim, "produce"), 30_000);
  }, 120_000);

  it("fails tasks with the reason: exit code, OOMKilled, eviction, image pull, unschedulable, API refusals, execution timeout; skips on skipOnExitCode", async () => {
    const run = "manual__failures";
    await engine.trigger("kpo_failures", run);
    const states = await Promise.all(
      ["exit_1", "oom", "pull", "too_slow"].map((t) =>
        stateOf(engine, "kpo_failures", run, t, ["success", "failed"], 90_000),
      ),
    );
    expect(states).toEqual(["failed", "failed", "failed", "failed"]);
    const exit1 = engine.log("kpo_failures", run, "exit_1");
    expect(exit1).toContain("[base] boom: no input");
    expect(exit1).toMatch(/Pod airflow\/exits-[a-z0-9-]+-try1 failed: container base exited with code 1/);
    // isDeleteOperatorPod: false keeps it.
    expect(podsOf(sim, "exit_1")).toHaveLength(1);
    expect(podsOf(sim, "exit_1")[0]?.metadata.deletionTimestamp).toBeUndefined();

    const oom = engine.log("kpo_failures", run, "oom");
    expect(oom).toMatch(/exited with code 137 \(OOMKilled\)/);
    expect(oom).toContain("raise resources.limits.memory");

    // The Pod's Warning events explain the timeout in the task log.
    expect(engine.log("kpo_failures", run, "pull")).toMatch(/Pod event Failed: .*fixture\/missing:9/);
    expect(engine.log("kpo_failures", run, "pull")).toMatch(
      /did not start within startupTimeoutSeconds \(3 s\): it is waiting: container base: (ErrImagePull|ImagePullBackOff)/,
    );

    const slow = engine.log("kpo_failures", run, "too_slow");
    expect(slow).toContain("[base] step 1 of 600");
    expect(slow).toContain("execution timeout");
    expect(slow).toMatch(/Deleting Pod airflow\/slow-[a-z0-9-]+-try1 \(the task was stopped\)/);
    expect(await stateOf(engine, "kpo_failures", run, "skip_99", ["success", "failed", "skipped"])).toBe(
      "skipped",
    );
    expect(await stateOf(engine, "kpo_failures", run, "evicted", ["success", "failed"])).toBe("failed");
    expect(engine.log("kpo_failures", run, "evicted")).toMatch(
      /Evicted.*The node was low on resource: memory/,
    );
    expect(await stateOf(engine, "kpo_failures", run, "unschedulable", ["success", "failed"])).toBe("failed");
    expect(engine.log("kpo_failures", run, "unschedulable")).toMatch(
      /did not start within startupTimeoutSeconds \(2 s\): it is waiting: Unschedulable \(0\/1 nodes are available: 1 Insufficient nvidia.com\/gpu.\)\. No node fits/,
    );
    const api = await Promise.all(
      ["invalid", "forbidden", "missing_ns"].map((t) =>
        stateOf(engine, "kpo_failures", run, t, ["success", "failed"]),
      ),
    );
    expect(api).toEqual(["failed", "failed", "failed"]);
    expect(engine.log("kpo_failures", run, "missing_ns")).toMatch(
      /Could not create Pod ghost\/ghost-[a-z0-9-]+-try1: the API server got 404.*Check that namespace "ghost" exists/,
    );
    expect(engine.log("kpo_failures", run, "invalid")).toMatch(
      /Could not create Pod airflow\/invalid-[a-z0-9-]+-try1: the API server got 422: .*metadata.labels.*fix the operator's arguments/,
    );
    expect(engine.log("kpo_failures", run, "forbidden")).toMatch(
      /Could not create Pod locked\/forbidden-[a-z0-9-]+-try1: the API server got 403.*grant it the verb/,
    );
    for (const t of ["oom", "pull", "too_slow"])
      await until(`${t}'s Pod deleted`, () => podsDeleted(sim, t), 30_000);
  }, 150_000);

  it("deletes the Pod of a task marked failed while it runs, or whose runner gets SIGTERM", async () => {
    const running = async (run: string) => {
      await engine.trigger("kpo_kill", run);
      await until(
        "the container running",
        () => (engine.log("kpo_kill", run, "long").includes("[base] step 2 of 600") ? true : undefined),
        60_000,
      );
      const pods = podsOf(sim, "long").filter((p) => p.metadata.deletionTimestamp === undefined);
      expect(pods).toHaveLength(1);
      return pods[0]?.metadata.name;
    };
    const stopped = (run: string) =>
      until(
        "the log to say the Pod is deleted",
        () =>
          /Deleting Pod airflow\/long-[a-z0-9-]+-try1 \(the task was stopped\)/.test(
            engine.log("kpo_kill", run, "long"),
          )
            ? true
            : undefined,
        30_000,
      );
    const gone = (name: string | undefined) =>
      until(
        `Pod ${name} deleted`,
        () =>
          sim
            .pods("airflow")
            .some((p) => p.metadata.name === name && p.metadata.deletionTimestamp === undefined)
            ? undefined
            : true,
        60_000,
      );

    // Marked failed (from the UI or the API): the next heartbeat meets 409 and the runner stops the try.
    const first = await running("manual__kill");
    await engine.markFailed("kpo_kill", "manual__kill", "long");
    await gone(first);
    await stopped("manual__kill");

    // SIGTERM to the runner process (a worker shutting down, a Pod evicted under the KubernetesExecutor).
    const second = await running("manual__sigterm");
    const row = await engine.database.db
      .selectFrom("task_instance")
      .select("pid")
      .where("run_id", "=", "manual__sigterm")
      .executeTakeFirstOrThrow();
    expect(row.pid).toBeGreaterThan(0);
    process.kill(row.pid as number, "SIGTERM");
    await gone(second);
    await stopped("manual__sigterm");
    expect(
      await stateOf(engine, "kpo_kill", "manual__sigterm", "long", ["failed", "up_for_retry", "success"]),
    ).toBe("failed");
    expect(engine.log("kpo_kill", "manual__sigterm", "long")).toContain("The runner received SIGTERM");
  }, 150_000);

  it("reads the cluster from a kubernetes connection, and runs one Pod per mapped instance", async () => {
    const run = "manual__connections";
    await engine.trigger("kpo_connections", run);
    expect(await stateOf(engine, "kpo_connections", run, "inline", ["success", "failed"])).toBe("success");
    // The connection's namespace extra placed the Pod.
    expect(engine.log("kpo_connections", run, "inline")).toMatch(
      /Created Pod airflow\/inline-[a-z0-9-]+-try1/,
    );
    expect(await stateOf(engine, "kpo_connections", run, "broken", ["success", "failed"])).toBe("failed");
    expect(engine.log("kpo_connections", run, "broken")).toContain("no-such-kubeconfig");
    await until("both mapped instances to succeed", async () => {
      const rows = await engine.database.db
        .selectFrom("task_instance")
        .select(["map_index", "state"])
        .where("run_id", "=", run)
        .where("task_id", "=", "mapped")
        .execute();
      return rows.length === 2 && rows.every((r) => r.state === "success") ? rows : undefined;
    });
    expect(engine.log("kpo_connections", run, "mapped", 1, 0)).toContain(
      '[base] argv: ["/app/run.py","--part","a"]',
    );
    expect(engine.log("kpo_connections", run, "mapped", 1, 1)).toContain(
      '[base] argv: ["/app/run.py","--part","b"]',
    );
  }, 120_000);

  it("runs a SparkApplication to COMPLETED with the driver's log, and fails cleanly on a FAILED one", async () => {
    const run = "manual__spark";
    const logical = await engine.trigger("spark_cases", run);
    const dsNodash = logical.toISOString().slice(0, 10).replaceAll("-", "");
    const apps = () => sim.objects("sparkapplications", "spark");
    expect(await stateOf(engine, "spark_cases", run, "spark_ok", ["success", "failed"])).toBe("success");
    const ok = engine.log("spark_cases", run, "spark_ok");
    expect(ok).toMatch(/Submitted SparkApplication spark\/spark-pi-[a-z0-9-]+-try1/);
    expect(ok).toContain(
      `[driver] argv: ${JSON.stringify([`/opt/jobs/pi-${dsNodash}.py`, "--date", logical.toISOString().slice(0, 10)])}`,
    );
    expect(ok).toContain("[driver] step 3 of 3");
    expect(ok).toContain("is COMPLETED");
    // Deleted at the end (deleteOnTermination defaults to true).
    await until(
      "spark_ok's application deleted",
      () => (apps().some((a) => a.metadata.labels?.["task_id"] === "spark_ok") ? undefined : true),
      30_000,
    );

    expect(await stateOf(engine, "spark_cases", run, "spark_fail", ["success", "failed"])).toBe("failed");
    const failed = engine.log("spark_cases", run, "spark_fail");
    expect(failed).toMatch(
      /SparkApplication spark\/broken-etl-[a-z0-9-]+-try1 ended FAILED: driver container failed with ExitCode: 3/,
    );
    expect(failed).toContain("[driver] Table not found: sales");
    // deleteOnTermination: false keeps it, with the try's labels.
    const kept = apps().find((a) => a.metadata.labels?.["task_id"] === "spark_fail");
    expect(kept?.metadata.labels).toMatchObject({
      dag_id: "spark_cases",
      try_number: "1",
      spark_kubernetes_operator: "true",
    });
  }, 120_000);

  it("retries transient API failures, and deletes a Pod an earlier try left running", async () => {
    const run = "manual__recovery";
    sim.inject({
      type: "ApiError",
      method: "GET",
      path: "/namespaces/airflow/pods/flaky-",
      status: 503,
      count: 3,
    });
    const kc = new KubeConfig();
    kc.loadFromFile(sim.kubeconfigPath);
    const id = { dagId: "kpo_recovery", taskId: "orphaned", runId: run, mapIndex: -1 };
    await kc.makeApiClient(CoreV1Api).createNamespacedPod({
      namespace: "airflow",
      body: {
        metadata: {
          name: "orphan-of-try-0",
          labels: { ...taskInstanceLabels(id, "kubernetes_pod_operator"), try_number: "0" },
        },
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "base", image: "busybox", command: ["sleep", "120"] }],
        },
      },
    });
    await until(
      "the orphan running",
      () =>
        sim
          .pods("airflow")
          .find(
            (p) =>
              p.metadata.name === "orphan-of-try-0" &&
              (p.status as { phase?: string } | undefined)?.phase === "Running",
          )
          ? true
          : undefined,
      30_000,
    );
    await engine.trigger("kpo_recovery", run);
    expect(await stateOf(engine, "kpo_recovery", run, "flaky", ["success", "failed"])).toBe("success");
    expect(sim.requests().filter((r) => r.status === 503).length).toBeGreaterThanOrEqual(3);
    expect(await stateOf(engine, "kpo_recovery", run, "orphaned", ["success", "failed"])).toBe("success");
    expect(engine.log("kpo_recovery", run, "orphaned")).toContain(
      "Pod airflow/orphan-of-try-0 of try 0 still runs; deleting it",
    );
    await until(
      "the orphan deleted",
      () =>
        sim
          .pods("airflow")
          .some((p) => p.metadata.name === "orphan-of-try-0" && p.metadata.deletionTimestamp === undefined)
          ? undefined
          : true,
      30_000,
    );
  }, 120_000);
});
