// The real kubectl against the simulator: the tutorial's lab commands.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeSim, startKubeSim } from "./index.js";
import { clients, kubectl, kubectlPath, podPhase, waitFor } from "./testing.js";

let sim: KubeSim;
let core: k8s.CoreV1Api;
let bin: string;

beforeAll(async () => {
  bin = kubectlPath();
  sim = await startKubeSim({ startDelayMs: 10, maxGraceMs: 1000 });
  ({ core } = clients(sim));
  const labels = (task: string) => ({ dag_id: "data_pipeline_lab", task_id: task });
  for (const task of ["extract", "transform"]) {
    await core.createNamespacedPod({
      namespace: "default",
      body: {
        metadata: { name: `lab-${task}`, labels: labels(task) },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "base",
              image: "busybox",
              command: ["sh", "-c", `for i in $(seq 1 60); do echo "${task} line $i"; done`],
            },
          ],
        },
      },
    });
  }
  await core.createNamespacedPod({
    namespace: "default",
    body: {
      metadata: { name: "unrelated", labels: { dag_id: "other" } },
      spec: { restartPolicy: "Never", containers: [{ name: "base", image: "busybox", command: ["true"] }] },
    },
  });
  await waitFor("lab Pods done", () =>
    ["lab-extract", "lab-transform", "unrelated"].every((n) => podPhase(sim, n) === "Succeeded"),
  );
});
afterAll(async () => {
  await sim.close();
});

describe("kubectl", () => {
  it("get pods -l dag_id=data_pipeline_lab prints the API server's table", async () => {
    const r = await kubectl(sim, bin, ["get", "pods", "-l", "dag_id=data_pipeline_lab"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 4))).toEqual([
      ["lab-extract", "0/1", "Completed", "0"],
      ["lab-transform", "0/1", "Completed", "0"],
    ]);
    const wide = await kubectl(sim, bin, ["get", "pods", "unrelated", "-o", "wide"]);
    expect(wide.stdout).toMatch(/unrelated\s+0\/1\s+Completed\s+0\s+\S+\s+10\.244\.\d+\.\d+\s+kube-sim-node/);
  });

  it("logs -l dag_id=data_pipeline_lab --tail=50 prints the last 50 lines of each Pod", async () => {
    const r = await kubectl(sim, bin, ["logs", "-l", "dag_id=data_pipeline_lab", "--tail=50", "--prefix"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(100);
    expect(lines.filter((l) => l.startsWith("[pod/lab-extract/base] extract line"))).toHaveLength(50);
    expect(lines).toContain("[pod/lab-transform/base] transform line 60");
    expect(lines).not.toContain("[pod/lab-transform/base] transform line 10");
  });

  it("get pods -w prints each change of a new Pod until it completes", async () => {
    const watcher = spawn(
      bin,
      ["--kubeconfig", sim.kubeconfigPath, "get", "pods", "-w", "-l", "dag_id=watched"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let out = "";
    watcher.stdout.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => watcher.on("close", r));
    try {
      await waitFor("kubectl's watch to start", () =>
        sim.requests().some((q) => q.query.includes("watch=true") && q.query.includes("dag_id%3Dwatched")),
      );
      await core.createNamespacedPod({
        namespace: "default",
        body: {
          metadata: { name: "watched", labels: { dag_id: "watched" } },
          spec: {
            restartPolicy: "Never",
            containers: [{ name: "base", image: "busybox", command: ["sh", "-c", "sleep 0.3"] }],
          },
        },
      });
      await waitFor("Completed in kubectl's output", () => /watched\s+0\/1\s+Completed/.test(out));
    } finally {
      watcher.kill("SIGTERM");
      await exited;
    }
    expect(out).toMatch(/watched\s+0\/1\s+Pending/);
    expect(out).toMatch(/watched\s+1\/1\s+Running/);
  });

  it("delete pod waits until the Pod is gone; get sparkapplications and events work", async () => {
    await core.createNamespacedPod({
      namespace: "default",
      body: {
        metadata: { name: "doomed" },
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "base", image: "busybox", command: ["sleep", "30"] }],
        },
      },
    });
    await waitFor("Running", () => podPhase(sim, "doomed") === "Running");
    const r = await kubectl(sim, bin, ["delete", "pod", "doomed"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('pod "doomed" deleted');
    expect(sim.pods("default").some((p) => p.metadata.name === "doomed")).toBe(false);
    const apps = await kubectl(sim, bin, ["get", "sparkapplications"]);
    expect(apps.code).toBe(0);
    expect(apps.stderr).toMatch(/No resources found in default namespace/);
    const events = await kubectl(sim, bin, [
      "get",
      "events",
      "--field-selector",
      "involvedObject.name=doomed",
    ]);
    expect(events.stdout).toMatch(/Killing\s+pod\/doomed\s+Stopping container base/);
  });

  it("reports a missing Pod as the API server does", async () => {
    const r = await kubectl(sim, bin, ["get", "pod", "ghost"]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('Error from server (NotFound): pods "ghost" not found');
  });

  it("create -f, logs -f, describe and apply -f work on a manifest", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kube-sim-kubectl-"));
    try {
      const manifest = (label: string) =>
        [
          "apiVersion: v1",
          "kind: Pod",
          "metadata:",
          "  name: manifest",
          `  labels: {app: ${label}}`,
          "spec:",
          "  restartPolicy: Never",
          "  containers:",
          "  - name: main",
          "    image: busybox",
          '    command: ["sh", "-c", "for i in 1 2 3; do echo tick $i; sleep 0.1; done"]',
        ].join("\n");
      const file = join(dir, "pod.yaml");
      writeFileSync(file, manifest("one"));
      const created = await kubectl(sim, bin, ["create", "-f", file]);
      expect(created.stderr).toBe("");
      expect(created.stdout).toBe("pod/manifest created\n");
      // create validates server-side: kubectl found fieldValidation in the OpenAPI document.
      expect(
        sim.requests().some((r) => r.method === "POST" && r.query.includes("fieldValidation=Strict")),
      ).toBe(true);
      const followed = await kubectl(sim, bin, ["logs", "-f", "manifest"]);
      expect(followed.stdout).toBe("tick 1\ntick 2\ntick 3\n");
      const described = await kubectl(sim, bin, ["describe", "pod", "manifest"]);
      expect(described.stdout).toMatch(/Status:\s+Succeeded/);
      expect(described.stdout).toMatch(/Reason:\s+Completed/);
      expect(described.stdout).toMatch(
        /Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/manifest to kube-sim-node/,
      );
      writeFileSync(file, manifest("two"));
      const applied = await kubectl(sim, bin, ["apply", "-f", file]);
      expect(applied.stdout).toBe("pod/manifest configured\n");
      expect(sim.pods("default").find((p) => p.metadata.name === "manifest")?.metadata.labels).toEqual({
        app: "two",
      });
      // A misspelt field fails as on a real cluster: kubectl asks for strict validation.
      writeFileSync(
        file,
        manifest("three").replace("    command:", "    comand:").replace("name: manifest", "name: misspelt"),
      );
      const typo = await kubectl(sim, bin, ["create", "-f", file]);
      expect(typo.code).toBe(1);
      expect(typo.stderr).toContain('strict decoding error: unknown field "spec.containers[0].comand"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
