// SparkApplications through the official CustomObjectsApi, with the simulated Spark operator.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeSim, startKubeSim } from "./index.js";
import { clients, statusOf, waitFor } from "./testing.js";

let sim: KubeSim;
let custom: k8s.CustomObjectsApi;
let core: k8s.CoreV1Api;
let dir: string;
const ns = "spark-jobs";
const api = { group: "sparkoperator.k8s.io", version: "v1beta2", namespace: ns, plural: "sparkapplications" };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kube-sim-spark-"));
  // The "Spark image": spark-submit is sh, so mainApplicationFile is a shell script.
  writeFileSync(
    join(dir, "etl.sh"),
    'echo "etl for $1 in $SPARK_APPLICATION_ID"; sleep 0.2; [ "$1" != fail ] || exit 2\n',
  );
  writeFileSync(join(dir, "long.sh"), "sleep 30\n");
  sim = await startKubeSim({
    startDelayMs: 10,
    images: { "my-registry.io/spark": { commands: { "spark-submit": ["sh"] } } },
  });
  ({ custom, core } = clients(sim));
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

const app = (name: string, args: string[], spec: Record<string, unknown> = {}) => ({
  apiVersion: "sparkoperator.k8s.io/v1beta2",
  kind: "SparkApplication",
  metadata: { name, labels: { dag_id: "spark_dag" } },
  spec: {
    type: "Python",
    mode: "cluster",
    image: "my-registry.io/spark:3.5.0",
    mainApplicationFile: `local://${join(dir, "etl.sh")}`,
    arguments: args,
    sparkVersion: "3.5.0",
    driver: { cores: 1, memory: "512m", labels: { team: "data" } },
    executor: { cores: 1, instances: 2, memory: "512m" },
    ...spec,
  },
});

interface AppStatus {
  applicationState?: { state?: string; errorMessage?: string };
  driverInfo?: { podName?: string };
}
const status = async (name: string) =>
  ((await custom.getNamespacedCustomObject({ ...api, name })) as { status?: AppStatus }).status;

describe("SparkApplication", () => {
  it("runs the driver Pod and ends COMPLETED, with the driver's log", async () => {
    const created = (await custom.createNamespacedCustomObject({
      ...api,
      body: app("etl-ok", ["2026-11-28"]),
    })) as { metadata: { uid: string } };
    expect(created.metadata.uid).toBeTruthy();
    const states = new Set<string>();
    const final = await waitFor("COMPLETED", async () => {
      const s = await status("etl-ok");
      if (s?.applicationState?.state !== undefined) states.add(s.applicationState.state);
      return s?.applicationState?.state === "COMPLETED" ? s : undefined;
    });
    expect(states.has("SUBMITTED") || states.has("RUNNING")).toBe(true);
    expect(final.driverInfo?.podName).toBe("etl-ok-driver");
    const driver = await core.readNamespacedPod({ name: "etl-ok-driver", namespace: ns });
    expect(driver.metadata?.labels).toMatchObject({
      "spark-role": "driver",
      "sparkoperator.k8s.io/app-name": "etl-ok",
      team: "data",
    });
    expect(driver.spec?.containers[0]?.resources?.limits?.memory).toBe("512Mi");
    const log = await core.readNamespacedPodLog({ name: "etl-ok-driver", namespace: ns });
    expect(log).toMatch(/^etl for 2026-11-28 in spark-[0-9a-f]{32}\n$/);
  });

  it("ends FAILED with an errorMessage when the driver fails", async () => {
    await custom.createNamespacedCustomObject({ ...api, body: app("etl-bad", ["fail"]) });
    const final = await waitFor("FAILED", async () => {
      const s = await status("etl-bad");
      return s?.applicationState?.state === "FAILED" ? s : undefined;
    });
    expect(final.applicationState?.errorMessage).toBe(
      "driver container failed with ExitCode: 2, Reason: Error",
    );
  });

  it("lists by label, answers 409 on a repeated create and deletes the driver with the application", async () => {
    await custom.createNamespacedCustomObject({
      ...api,
      body: app("etl-long", ["x"], { mainApplicationFile: `local://${join(dir, "long.sh")}` }),
    });
    const again = await statusOf(
      custom.createNamespacedCustomObject({ ...api, body: app("etl-long", ["x"]) }),
    );
    expect(again.code).toBe(409);
    expect(again.body.message).toBe('sparkapplications.sparkoperator.k8s.io "etl-long" already exists');
    const list = (await custom.listNamespacedCustomObject({ ...api, labelSelector: "dag_id=spark_dag" })) as {
      items: { metadata: { name: string } }[];
    };
    expect(list.items.map((i) => i.metadata.name)).toContain("etl-long");
    await waitFor("RUNNING", async () => (await status("etl-long"))?.applicationState?.state === "RUNNING");
    await custom.deleteNamespacedCustomObject({ ...api, name: "etl-long" });
    await waitFor("driver gone", () => !sim.pods(ns).some((p) => p.metadata.name === "etl-long-driver"));
    expect((await statusOf(custom.getNamespacedCustomObject({ ...api, name: "etl-long" }))).code).toBe(404);
  });

  it("stays SUBMITTED while the driver cannot pull its image, as with a real operator", async () => {
    await custom.createNamespacedCustomObject({
      ...api,
      body: app("etl-noimage", [], { image: "nowhere/spark:1" }),
    });
    await waitFor(
      "driver ImagePullBackOff",
      async () =>
        (await core.readNamespacedPod({ name: "etl-noimage-driver", namespace: ns })).status
          ?.containerStatuses?.[0]?.state?.waiting?.reason === "ImagePullBackOff",
    );
    expect((await status("etl-noimage"))?.applicationState?.state).toBe("SUBMITTED");
  });

  it("answers 422 for an application without the fields the CRD requires", async () => {
    const bad = app("etl-invalid", []) as { spec: Record<string, unknown> };
    delete bad.spec.mainApplicationFile;
    delete bad.spec.sparkVersion;
    bad.spec.type = "Cobol";
    const r = await statusOf(custom.createNamespacedCustomObject({ ...api, body: bad }));
    expect(r.code).toBe(422);
    expect(String(r.body.message)).toContain("spec.mainApplicationFile: Required value");
    expect(String(r.body.message)).toContain("spec.sparkVersion: Required value");
    expect(String(r.body.message)).toContain('spec.type: Unsupported value: "Cobol"');
  });
});
