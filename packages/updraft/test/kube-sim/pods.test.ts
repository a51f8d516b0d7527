// The simulator through the official client: Pod lifecycle, logs, Secrets, volumes, deletion.
import { PassThrough } from "node:stream";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeSim, startKubeSim } from "./index.js";
import { clients, podPhase, statusOf, waitFor } from "./testing.js";

let sim: KubeSim;
let core: k8s.CoreV1Api;
let kc: k8s.KubeConfig;

beforeAll(async () => {
  sim = await startKubeSim({ startDelayMs: 20, maxGraceMs: 1000 });
  ({ core, kc } = clients(sim));
});
afterAll(async () => {
  await sim.close();
});

const shPod = (
  name: string,
  script: string,
  extra: Partial<k8s.V1Pod["spec"]> = {},
  labels: Record<string, string> = {},
): k8s.V1Pod => ({
  metadata: { name, labels },
  spec: {
    restartPolicy: "Never",
    containers: [{ name: "base", image: "busybox:1.36", command: ["sh", "-c", script] }],
    ...extra,
  },
});

describe("Pods", () => {
  it("moves a Pod Pending → Running → Succeeded and serves its log", async () => {
    const created = await core.createNamespacedPod({
      namespace: "default",
      body: shPod("lifecycle", "echo out; echo err >&2; sleep 0.3; echo done"),
    });
    expect(created.status?.phase).toBe("Pending");
    expect(created.metadata?.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(Number(created.metadata?.resourceVersion)).toBeGreaterThan(0);
    expect(created.spec?.restartPolicy).toBe("Never");
    await waitFor(
      "Running",
      async () =>
        (await core.readNamespacedPod({ name: "lifecycle", namespace: "default" })).status?.phase ===
        "Running",
    );
    const done = await waitFor("Succeeded", async () => {
      const p = await core.readNamespacedPod({ name: "lifecycle", namespace: "default" });
      return p.status?.phase === "Succeeded" ? p : undefined;
    });
    const terminated = done.status?.containerStatuses?.[0]?.state?.terminated;
    expect(terminated?.exitCode).toBe(0);
    expect(terminated?.reason).toBe("Completed");
    expect(done.status?.conditions?.find((c) => c.type === "PodScheduled")?.status).toBe("True");
    expect(done.spec?.nodeName).toBe("kube-sim-node");
    const log = await core.readNamespacedPodLog({
      name: "lifecycle",
      namespace: "default",
      container: "base",
    });
    expect(log).toBe("out\nerr\ndone\n");
    const tail = await core.readNamespacedPodLog({ name: "lifecycle", namespace: "default", tailLines: 1 });
    expect(tail).toBe("done\n");
  });

  it("gives containers the simulator's kubeconfig (its stand-in for the service account), unless their env sets one", async () => {
    await core.createNamespacedPod({
      namespace: "default",
      body: shPod("in-cluster", 'echo "kc=$KUBECONFIG"'),
    });
    const own = shPod("own-kc", 'echo "kc=$KUBECONFIG"');
    own.spec!.containers[0]!.env = [{ name: "KUBECONFIG", value: "/etc/own" }];
    await core.createNamespacedPod({ namespace: "default", body: own });
    for (const name of ["in-cluster", "own-kc"])
      await waitFor("Succeeded", () => podPhase(sim, name) === "Succeeded");
    const log = (name: string) => core.readNamespacedPodLog({ name, namespace: "default" });
    expect(await log("in-cluster")).toBe(`kc=${sim.kubeconfigPath}\n`);
    expect(await log("own-kc")).toBe("kc=/etc/own\n");
  });

  it("honours timestamps, limitBytes and sinceSeconds on logs", async () => {
    await core.createNamespacedPod({
      namespace: "default",
      body: shPod("logopts", "echo first; echo second"),
    });
    await waitFor("Succeeded", () => podPhase(sim, "logopts") === "Succeeded");
    const stamped = await core.readNamespacedPodLog({
      name: "logopts",
      namespace: "default",
      timestamps: true,
    });
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z first\n\S+ second\n$/);
    expect(await core.readNamespacedPodLog({ name: "logopts", namespace: "default", limitBytes: 3 })).toBe(
      "fir",
    );
    expect(
      await core.readNamespacedPodLog({ name: "logopts", namespace: "default", sinceSeconds: 3600 }),
    ).toBe("first\nsecond\n");
  });

  it("fails a Pod whose command exits non-zero, with reason Error and the exit code", async () => {
    await core.createNamespacedPod({ namespace: "default", body: shPod("exit3", "exit 3") });
    await waitFor("Failed", () => podPhase(sim, "exit3") === "Failed");
    const p = await core.readNamespacedPod({ name: "exit3", namespace: "default" });
    expect(p.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 3,
      reason: "Error",
    });
  });

  it("reports a command that cannot start as StartError with exit code 128", async () => {
    await core.createNamespacedPod({
      namespace: "default",
      body: {
        metadata: { name: "no-binary" },
        spec: {
          restartPolicy: "Never",
          containers: [{ name: "base", image: "busybox", command: ["definitely-not-a-command-kube-sim"] }],
        },
      },
    });
    await waitFor("Failed", () => podPhase(sim, "no-binary") === "Failed");
    const p = await core.readNamespacedPod({ name: "no-binary", namespace: "default" });
    expect(p.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({
      exitCode: 128,
      reason: "StartError",
    });
    expect(p.status?.containerStatuses?.[0]?.state?.terminated?.message).toContain(
      "definitely-not-a-command-kube-sim",
    );
  });

  it("follows a log until the container ends (the client's Log)", async () => {
    await core.createNamespacedPod({
      namespace: "default",
      body: shPod("follow", "for i in 1 2 3; do echo line $i; sleep 0.2; done"),
    });
    await waitFor("Running", () => podPhase(sim, "follow") !== "Pending");
    const out = new PassThrough();
    let text = "";
    out.on("data", (d: Buffer) => (text += d.toString()));
    const ended = new Promise((r) => out.on("end", r));
    await new k8s.Log(kc).log("default", "follow", "base", out, { follow: true });
    await ended;
    expect(text).toBe("line 1\nline 2\nline 3\n");
  });

  it("answers 409 AlreadyExists on a repeated create and 404 NotFound on a missing Pod", async () => {
    await core.createNamespacedPod({ namespace: "default", body: shPod("twice", "true") });
    const again = await statusOf(
      core.createNamespacedPod({ namespace: "default", body: shPod("twice", "true") }),
    );
    expect(again.code).toBe(409);
    expect(again.body).toMatchObject({
      kind: "Status",
      reason: "AlreadyExists",
      message: 'pods "twice" already exists',
    });
    const missing = await statusOf(core.readNamespacedPod({ name: "nope", namespace: "default" }));
    expect(missing.code).toBe(404);
    expect(missing.body).toMatchObject({ reason: "NotFound", message: 'pods "nope" not found' });
    expect(
      sim
        .requests()
        .filter(
          (r) => r.method === "POST" && r.path === "/api/v1/namespaces/default/pods" && r.status === 201,
        ).length,
    ).toBeGreaterThan(0);
  });

  it("answers 422 Invalid for a bad name, a long label value and a spec the schema rejects", async () => {
    const badName = await statusOf(
      core.createNamespacedPod({ namespace: "default", body: shPod("Bad_Name", "true") }),
    );
    expect(badName.code).toBe(422);
    expect(badName.body.reason).toBe("Invalid");
    expect(String(badName.body.message)).toContain("metadata.name");
    const longLabel = await statusOf(
      core.createNamespacedPod({
        namespace: "default",
        body: shPod("long-label", "true", {}, { run_id: "x".repeat(64) }),
      }),
    );
    expect(longLabel.code).toBe(422);
    expect(String(longLabel.body.message)).toContain("must be no more than 63 characters");
    const schema = await statusOf(
      core.createNamespacedPod({
        namespace: "default",
        body: {
          metadata: { name: "bad-spec" },
          spec: {
            containers: [
              { name: "base", image: "busybox", ports: [{ containerPort: "eighty" as unknown as number }] },
            ],
          },
        },
      }),
    );
    expect(schema.code).toBe(422);
    expect(String(schema.body.message)).toMatch(/containerPort|integer/);
    const noImage = await statusOf(
      core.createNamespacedPod({
        namespace: "default",
        body: { metadata: { name: "no-image" }, spec: { containers: [{ name: "base" }] } },
      }),
    );
    expect(noImage.code).toBe(422);
    expect(String(noImage.body.message)).toContain("spec.containers[0].image: Required value");
    expect(sim.pods().map((p) => p.metadata.name)).not.toContain("bad-spec");
  });

  it("names a Pod from generateName", async () => {
    const p = await core.createNamespacedPod({
      namespace: "default",
      body: {
        metadata: { generateName: "gen-" },
        spec: { restartPolicy: "Never", containers: [{ name: "c", image: "busybox", command: ["true"] }] },
      },
    });
    expect(p.metadata?.name).toMatch(/^gen-[a-z0-9]{5}$/);
  });

  it("gives containers env from values, Secrets and the downward API, and shares emptyDir through rewritten mount paths", async () => {
    await core.createNamespacedSecret({
      namespace: "default",
      body: { metadata: { name: "creds" }, stringData: { token: "s3cret", user: "ann" } },
    });
    const secret = await core.readNamespacedSecret({ name: "creds", namespace: "default" });
    expect(secret.data?.token).toBe(Buffer.from("s3cret").toString("base64"));
    expect(secret.stringData).toBeUndefined();
    await core.createNamespacedPod({
      namespace: "default",
      body: {
        metadata: { name: "envy", labels: { dag_id: "d1" } },
        spec: {
          restartPolicy: "Never",
          volumes: [
            { name: "xcom", emptyDir: {} },
            { name: "creds", secret: { secretName: "creds" } },
          ],
          initContainers: [
            {
              name: "prep",
              image: "busybox",
              command: ["sh", "-c", "echo from-init > /airflow/xcom/init.txt"],
              volumeMounts: [{ name: "xcom", mountPath: "/airflow/xcom" }],
            },
          ],
          containers: [
            {
              name: "base",
              image: "busybox",
              command: [
                "sh",
                "-c",
                'echo "$GREETING $TOKEN $POD $DAG $(cat /airflow/xcom/init.txt) $(cat /etc/creds/user)"; echo \'{"a":1}\' > /airflow/xcom/return.json',
              ],
              env: [
                { name: "GREETING", value: "hello" },
                { name: "TOKEN", valueFrom: { secretKeyRef: { name: "creds", key: "token" } } },
                { name: "POD", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
                { name: "DAG", valueFrom: { fieldRef: { fieldPath: "metadata.labels['dag_id']" } } },
              ],
              volumeMounts: [
                { name: "xcom", mountPath: "/airflow/xcom" },
                { name: "creds", mountPath: "/etc/creds", readOnly: true },
              ],
            },
            {
              name: "sidecar",
              image: "busybox",
              command: [
                "sh",
                "-c",
                "while [ ! -f /airflow/xcom/return.json ]; do sleep 0.05; done; cat /airflow/xcom/return.json",
              ],
              volumeMounts: [{ name: "xcom", mountPath: "/airflow/xcom" }],
            },
          ],
        },
      },
    });
    await waitFor("Succeeded", () => podPhase(sim, "envy") === "Succeeded");
    expect(sim.logs("default", "envy", "base")).toBe("hello s3cret envy d1 from-init ann\n");
    expect(sim.logs("default", "envy", "sidecar")).toBe('{"a":1}\n');
    const pod = await core.readNamespacedPod({ name: "envy", namespace: "default" });
    expect(pod.status?.initContainerStatuses?.[0]?.state?.terminated?.reason).toBe("Completed");
    const noContainer = await statusOf(core.readNamespacedPodLog({ name: "envy", namespace: "default" }));
    expect(noContainer.code).toBe(400);
    expect(String(noContainer.body.message)).toContain(
      "a container name must be specified for pod envy, choose one of: [base sidecar]",
    );
  });

  it("waits with CreateContainerConfigError until a missing Secret exists", async () => {
    await core.createNamespacedPod({
      namespace: "default",
      body: {
        metadata: { name: "needs-secret" },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: "base",
              image: "busybox",
              command: ["sh", "-c", "echo $V"],
              env: [{ name: "V", valueFrom: { secretKeyRef: { name: "later", key: "v" } } }],
            },
          ],
        },
      },
    });
    await waitFor(
      "CreateContainerConfigError",
      async () =>
        (await core.readNamespacedPod({ name: "needs-secret", namespace: "default" })).status
          ?.containerStatuses?.[0]?.state?.waiting?.reason === "CreateContainerConfigError",
    );
    const waiting = await statusOf(core.readNamespacedPodLog({ name: "needs-secret", namespace: "default" }));
    expect(waiting.code).toBe(400);
    expect(String(waiting.body.message)).toBe(
      'container "base" in pod "needs-secret" is waiting to start: CreateContainerConfigError',
    );
    await core.createNamespacedSecret({
      namespace: "default",
      body: { metadata: { name: "later" }, stringData: { v: "arrived" } },
    });
    await waitFor("Succeeded", () => podPhase(sim, "needs-secret") === "Succeeded");
    expect(sim.logs("default", "needs-secret")).toBe("arrived\n");
  });

  it("kills a deleted Pod's process, then removes it and the Secrets it owns", async () => {
    const pod = await core.createNamespacedPod({
      namespace: "default",
      body: shPod("sleepy", "trap 'echo got TERM; exit 0' TERM; while true; do sleep 0.05; done"),
    });
    await core.createNamespacedSecret({
      namespace: "default",
      body: {
        metadata: {
          name: "sleepy-token",
          ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "sleepy", uid: pod.metadata!.uid! }],
        },
        stringData: { t: "x" },
      },
    });
    await waitFor("Running", () => podPhase(sim, "sleepy") === "Running");
    const deleted = await core.deleteNamespacedPod({ name: "sleepy", namespace: "default" });
    expect(deleted.metadata?.deletionTimestamp).toBeDefined();
    await waitFor("Pod gone", () => !sim.pods("default").some((p) => p.metadata.name === "sleepy"));
    expect(sim.objects("secrets", "default").map((s) => s.metadata.name)).not.toContain("sleepy-token");
    expect((await statusOf(core.readNamespacedPod({ name: "sleepy", namespace: "default" }))).code).toBe(404);
  });

  it("patches labels (JSON patch, the client's default; merge patch) and refuses spec changes", async () => {
    await core.createNamespacedPod({ namespace: "default", body: shPod("patchy", "true") });
    const patched = await core.patchNamespacedPod({
      name: "patchy",
      namespace: "default",
      body: [{ op: "add", path: "/metadata/labels", value: { done: "yes" } }],
    });
    expect(patched.metadata?.labels).toEqual({ done: "yes" });
    const merged = await core.patchNamespacedPod(
      { name: "patchy", namespace: "default", body: { metadata: { labels: { more: "1" } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    expect(merged.metadata?.labels).toEqual({ done: "yes", more: "1" });
    const spec = await statusOf(
      core.patchNamespacedPod({
        name: "patchy",
        namespace: "default",
        body: [{ op: "replace", path: "/spec/restartPolicy", value: "Always" }],
      }),
    );
    expect(spec.code).toBe(422);
  });

  it("creates namespaces on first use, lists them, and deleting one deletes its Pods", async () => {
    await core.createNamespace({ body: { metadata: { name: "made" } } });
    expect((await statusOf(core.createNamespace({ body: { metadata: { name: "made" } } }))).code).toBe(409);
    expect((await statusOf(core.createNamespace({ body: { metadata: { name: "Not_A_Label" } } }))).code).toBe(
      422,
    );
    await core.createNamespacedPod({ namespace: "auto", body: shPod("in-auto", "sleep 30") });
    const names = (await core.listNamespace()).items.map((n) => n.metadata!.name);
    expect(names).toEqual(expect.arrayContaining(["default", "kube-system", "made", "auto"]));
    expect((await core.readNamespace({ name: "auto" })).status?.phase).toBe("Active");
    await waitFor("Running", () => podPhase(sim, "in-auto", "auto") === "Running");
    await core.deleteNamespace({ name: "auto" });
    await waitFor("the namespace's Pod gone", () => sim.pods("auto").length === 0);
    expect((await statusOf(core.readNamespace({ name: "auto" }))).code).toBe(404);
  });

  it("drops unknown fields with a Warning, and rejects them with fieldValidation=Strict", async () => {
    const body = JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "typo" },
      spec: {
        restartPolicy: "Never",
        containers: [{ name: "base", image: "busybox", command: ["true"], volumeMount: [] }],
      },
    });
    const post = (query: string) =>
      fetch(`${sim.url}/api/v1/namespaces/default/pods${query}`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body,
      });
    const strict = await post("?fieldValidation=Strict");
    expect(strict.status).toBe(400);
    expect(((await strict.json()) as { message: string }).message).toBe(
      'Pod in version "v1" cannot be handled as a Pod: strict decoding error: unknown field "spec.containers[0].volumeMount"',
    );
    const warned = await post("");
    expect(warned.status).toBe(201);
    expect(warned.headers.get("warning")).toBe('299 - "unknown field \\"spec.containers[0].volumeMount\\""');
    const stored = sim.pods("default").find((p) => p.metadata.name === "typo")!;
    expect((stored.spec as { containers: Record<string, unknown>[] }).containers[0]).not.toHaveProperty(
      "volumeMount",
    );
    expect(sim.warnings()).toEqual([
      {
        method: "POST",
        path: "/api/v1/namespaces/default/pods",
        warning: 'unknown field "spec.containers[0].volumeMount"',
      },
    ]);
  });
});

describe("without namespace auto-creation", () => {
  it("answers 404 for a create in a namespace that does not exist, as a real cluster does", async () => {
    const strict = await startKubeSim({ autoCreateNamespaces: false });
    try {
      const api = clients(strict).core;
      const missing = await statusOf(
        api.createNamespacedSecret({ namespace: "ghost", body: { metadata: { name: "s" } } }),
      );
      expect(missing.code).toBe(404);
      expect(missing.body.message).toBe('namespaces "ghost" not found');
      await api.createNamespace({ body: { metadata: { name: "ghost" } } });
      await api.createNamespacedSecret({ namespace: "ghost", body: { metadata: { name: "s" } } });
    } finally {
      await strict.close();
    }
  });
});
