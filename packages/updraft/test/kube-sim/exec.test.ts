// exec over WebSocket: the official client's Exec and the real `kubectl exec`, beside a running container.
import { PassThrough } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeSim, startKubeSim } from "./index.js";
import { clients, kubectl, kubectlPath, podPhase, waitFor } from "./testing.js";

let sim: KubeSim;
let core: k8s.CoreV1Api;
let kc: k8s.KubeConfig;

beforeAll(async () => {
  sim = await startKubeSim({ startDelayMs: 10 });
  ({ core, kc } = clients(sim));
  // Airflow's XCom sidecar pattern: the base container writes return.json, the sidecar idles.
  await core.createNamespacedPod({
    namespace: "default",
    body: {
      metadata: { name: "xcom" },
      spec: {
        restartPolicy: "Never",
        volumes: [{ name: "xcom", emptyDir: {} }],
        containers: [
          {
            name: "base",
            image: "busybox",
            command: ["sh", "-c", "echo '{\"rows\": 42}' > /airflow/xcom/return.json"],
            volumeMounts: [{ name: "xcom", mountPath: "/airflow/xcom" }],
          },
          {
            name: "airflow-xcom-sidecar",
            image: "alpine",
            command: ["sh", "-c", 'trap "exit 0" INT; while true; do sleep 0.1; done'],
            env: [{ name: "WHO", value: "sidecar" }],
            volumeMounts: [{ name: "xcom", mountPath: "/airflow/xcom" }],
          },
        ],
      },
    },
  });
  await waitFor("base done, sidecar running", async () => {
    const p = await core.readNamespacedPod({ name: "xcom", namespace: "default" });
    const s = p.status?.containerStatuses ?? [];
    return (
      s.find((c) => c.name === "base")?.state?.terminated !== undefined &&
      s.find((c) => c.name === "airflow-xcom-sidecar")?.state?.running !== undefined
    );
  });
});
afterAll(async () => {
  await sim.close();
});

async function exec(container: string, command: string[]) {
  let stdout = "";
  let stderr = "";
  const out = new PassThrough().on("data", (d: Buffer) => (stdout += d.toString()));
  const err = new PassThrough().on("data", (d: Buffer) => (stderr += d.toString()));
  const status = await new Promise<k8s.V1Status>((resolve, reject) => {
    new k8s.Exec(kc)
      .exec("default", "xcom", container, command, out, err, null, false, resolve)
      .catch(reject);
  });
  return { stdout, stderr, status };
}

describe("exec", () => {
  it("runs a command in the sidecar with its mounts and env (the client's Exec)", async () => {
    const r = await exec("airflow-xcom-sidecar", [
      "sh",
      "-c",
      "cat /airflow/xcom/return.json; echo $WHO >&2",
    ]);
    expect(r.stdout).toBe('{"rows": 42}\n');
    expect(r.stderr).toBe("sidecar\n");
    expect(r.status.status).toBe("Success");
  });

  it("reports a non-zero exit code in the final Status", async () => {
    const r = await exec("airflow-xcom-sidecar", ["sh", "-c", "exit 3"]);
    expect(r.status).toMatchObject({
      status: "Failure",
      reason: "NonZeroExitCode",
      details: { causes: [{ reason: "ExitCode", message: "3" }] },
    });
  });

  it("works with the real kubectl exec, with its exit code, and refuses a container that is not running", async () => {
    const bin = kubectlPath();
    const r = await kubectl(sim, bin, [
      "exec",
      "xcom",
      "-c",
      "airflow-xcom-sidecar",
      "--",
      "cat",
      "/airflow/xcom/return.json",
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe('{"rows": 42}\n');
    const failed = await kubectl(sim, bin, [
      "exec",
      "xcom",
      "-c",
      "airflow-xcom-sidecar",
      "--",
      "sh",
      "-c",
      "exit 4",
    ]);
    expect(failed.code).toBe(4);
    const stopped = await kubectl(sim, bin, ["exec", "xcom", "-c", "base", "--", "true"]);
    expect(stopped.code).not.toBe(0);
    expect(stopped.stderr).toContain('container not found ("base")');
  });
});

it("stops the sidecar as Airflow does (kill -s SIGINT 1 on /bin/sh's stdin hits the container's process)", async () => {
  const stdin = new PassThrough();
  const status = new Promise<k8s.V1Status>((resolve, reject) => {
    new k8s.Exec(kc)
      .exec(
        "default",
        "xcom",
        "airflow-xcom-sidecar",
        ["/bin/sh"],
        new PassThrough(),
        new PassThrough(),
        stdin,
        false,
        resolve,
      )
      .catch(reject);
  });
  stdin.end("kill -s SIGINT 1\n");
  expect((await status).status).toBe("Success");
  await waitFor("the Pod Succeeded", () => podPhase(sim, "xcom") === "Succeeded");
  const sidecar = (
    await core.readNamespacedPod({ name: "xcom", namespace: "default" })
  ).status?.containerStatuses?.find((c) => c.name === "airflow-xcom-sidecar");
  expect(sidecar?.state?.terminated?.exitCode).toBe(0);
});
