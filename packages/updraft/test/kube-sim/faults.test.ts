// Every injectable fault, seen through the official client as code under test would see it.
import type * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeSim, startKubeSim } from "./index.js";
import { clients, podPhase, statusOf, waitFor } from "./testing.js";

let sim: KubeSim;
let core: k8s.CoreV1Api;
const ns = "faulty";

beforeAll(async () => {
  sim = await startKubeSim({ startDelayMs: 10, retryMs: 200, maxGraceMs: 500 });
  ({ core } = clients(sim));
});
afterAll(async () => {
  await sim.close();
});

const pod = (
  name: string,
  script: string,
  labels: Record<string, string> = {},
  restartPolicy = "Never",
  image = "busybox",
): k8s.V1Pod => ({
  metadata: { name, labels },
  spec: { restartPolicy, containers: [{ name: "base", image, command: ["sh", "-c", script] }] },
});
const read = (name: string) => core.readNamespacedPod({ name, namespace: ns });
const state = async (name: string) => (await read(name)).status?.containerStatuses?.[0]?.state;

describe("Pod faults", () => {
  it("ImagePullFailure: ErrImagePull, then ImagePullBackOff; the Pod starts once the fault is removed", async () => {
    const remove = sim.inject({ type: "ImagePullFailure", image: "busybox:1.36" });
    await core.createNamespacedPod({
      namespace: ns,
      body: pod("pull", "echo pulled", {}, "Never", "busybox:1.36"),
    });
    await waitFor("ErrImagePull", async () => (await state("pull"))?.waiting?.reason === "ErrImagePull");
    await waitFor(
      "ImagePullBackOff",
      async () => (await state("pull"))?.waiting?.reason === "ImagePullBackOff",
    );
    expect((await read("pull")).status?.phase).toBe("Pending");
    const events = await core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: "involvedObject.name=pull,reason=Failed",
    });
    expect(events.items[0]?.message).toContain('Failed to pull image "busybox:1.36"');
    remove();
    await waitFor("Succeeded", () => podPhase(sim, "pull", ns) === "Succeeded");
    expect(sim.logs(ns, "pull")).toBe("pulled\n");
  });

  it("an image the simulator does not know fails to pull as on a real node", async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: pod("unknown", "true", {}, "Never", "registry.example.com/nope:1"),
    });
    await waitFor(
      "ImagePullBackOff",
      async () => (await state("unknown"))?.waiting?.reason === "ImagePullBackOff",
    );
    const log = await statusOf(core.readNamespacedPodLog({ name: "unknown", namespace: ns }));
    expect(log.body.message).toBe(
      'container "base" in pod "unknown" is waiting to start: trying and failing to pull image',
    );
  });

  it("OOMKilled: the container is killed, terminated with reason OOMKilled and exit code 137", async () => {
    const remove = sim.inject({ type: "OOMKilled", labelSelector: "task_id=train" });
    await core.createNamespacedPod({
      namespace: ns,
      body: pod("oom", "echo training; sleep 30", { task_id: "train" }),
    });
    await core.createNamespacedPod({ namespace: ns, body: pod("spared", "true", { task_id: "other" }) });
    await waitFor("Failed", () => podPhase(sim, "oom", ns) === "Failed");
    expect((await state("oom"))?.terminated).toMatchObject({ reason: "OOMKilled", exitCode: 137 });
    await waitFor("spared Succeeded", () => podPhase(sim, "spared", ns) === "Succeeded");
    remove();
  });

  it("Evicted: processes killed, phase Failed, reason Evicted", async () => {
    const remove = sim.inject({ type: "Evicted", labelSelector: "evict=yes" });
    await core.createNamespacedPod({
      namespace: ns,
      body: pod("evictee", "trap '' TERM; sleep 30", { evict: "yes" }),
    });
    await waitFor("Failed", () => podPhase(sim, "evictee", ns) === "Failed");
    const p = await read("evictee");
    expect(p.status?.reason).toBe("Evicted");
    expect(p.status?.message).toContain("low on resource");
    expect(p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(137);
    remove();
  });

  it("activeDeadlineSeconds: the node kills the Pod, phase Failed, reason DeadlineExceeded", async () => {
    const body = pod("deadline", "sleep 30");
    // 3 s, not 1: on a loaded machine the container must have started before the deadline for
    // its kill (exit 137) to be what the node reports.
    body.spec!.activeDeadlineSeconds = 3;
    await core.createNamespacedPod({ namespace: ns, body });
    await waitFor("Failed", () => podPhase(sim, "deadline", ns) === "Failed");
    expect((await read("deadline")).status?.reason).toBe("DeadlineExceeded");
    // The phase is published when the node kills the Pod; the container's exit follows it.
    const terminated = await waitFor(
      "the container's exit",
      async () => (await read("deadline")).status?.containerStatuses?.[0]?.state?.terminated,
    );
    expect(terminated.exitCode).toBe(137);
  });

  it("Unschedulable: Pending with PodScheduled=False, until the fault is removed", async () => {
    const remove = sim.inject({ type: "Unschedulable", labelSelector: "gpu=yes" });
    await core.createNamespacedPod({ namespace: ns, body: pod("no-node", "echo finally", { gpu: "yes" }) });
    const condition = await waitFor("Unschedulable", async () =>
      (await read("no-node")).status?.conditions?.find(
        (c) => c.type === "PodScheduled" && c.reason === "Unschedulable",
      ),
    );
    expect(condition.status).toBe("False");
    const events = await core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: "involvedObject.name=no-node",
    });
    expect(events.items.map((e) => e.reason)).toContain("FailedScheduling");
    expect((await read("no-node")).status?.phase).toBe("Pending");
    remove();
    await waitFor("Succeeded", () => podPhase(sim, "no-node", ns) === "Succeeded");
  });

  it("restartPolicy OnFailure: CrashLoopBackOff, restartCount and the previous container's log", async () => {
    await core.createNamespacedPod({
      namespace: ns,
      body: pod("crashy", "echo try; exit 1", {}, "OnFailure"),
    });
    await waitFor(
      "two restarts",
      async () => ((await read("crashy")).status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2,
    );
    const p = await read("crashy");
    expect(p.status?.phase).toBe("Running");
    expect(p.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode).toBe(1);
    await waitFor(
      "CrashLoopBackOff",
      async () => (await state("crashy"))?.waiting?.reason === "CrashLoopBackOff",
    );
    expect(await core.readNamespacedPodLog({ name: "crashy", namespace: ns, previous: true })).toBe("try\n");
    await core.deleteNamespacedPod({ name: "crashy", namespace: ns });
    await waitFor("gone", () => !sim.pods(ns).some((x) => x.metadata.name === "crashy"));
  });
});

describe("API faults", () => {
  it("ApiError: the next N matching requests get 500 (a Status), then the API answers again", async () => {
    sim.inject({ type: "ApiError", method: "GET", path: /\/namespaces\/faulty\/pods$/, count: 2 });
    const first = await statusOf(core.listNamespacedPod({ namespace: ns }));
    expect(first.code).toBe(500);
    expect(first.body).toMatchObject({ kind: "Status", reason: "InternalError" });
    expect((await statusOf(core.listNamespacedPod({ namespace: ns }))).code).toBe(500);
    // Other requests were never affected.
    await core.listNamespacedSecret({ namespace: ns });
    const ok = await core.listNamespacedPod({ namespace: ns });
    expect(ok.items.length).toBeGreaterThan(0);
    sim.inject({ type: "ApiError", method: "POST", path: "/pods$", status: 503 });
    expect(
      (await statusOf(core.createNamespacedPod({ namespace: ns, body: pod("unlucky", "true") }))).code,
    ).toBe(503);
    expect(sim.pods(ns).some((p) => p.metadata.name === "unlucky")).toBe(false);
  });

  it("ApiError with a client status answers with that code's reason and wording", async () => {
    sim.inject({ type: "ApiError", method: "POST", path: "/namespaces/faulty/secrets$", status: 403 });
    const forbidden = await statusOf(
      core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: "denied" } } }),
    );
    expect(forbidden.code).toBe(403);
    expect(forbidden.body).toMatchObject({
      reason: "Forbidden",
      message:
        'secrets is forbidden: User "system:serviceaccount:default:default" cannot create resource "secrets" in API group "" in the namespace "faulty"',
    });
    sim.inject({ type: "ApiError", path: "/namespaces/faulty/secrets$", status: 429 });
    const r = await fetch(`${sim.url}/api/v1/namespaces/faulty/secrets`);
    expect(r.status).toBe(429);
    expect(r.headers.get("retry-after")).toBe("1");
    expect(((await r.json()) as { reason: string }).reason).toBe("TooManyRequests");
  });

  it("ApiTimeout: the next matching request is never answered", async () => {
    const before = sim.requests().length;
    sim.inject({ type: "ApiTimeout", path: "/api/v1/namespaces/faulty/secrets" });
    const hung = await fetch(`${sim.url}/api/v1/namespaces/faulty/secrets`, {
      signal: AbortSignal.timeout(400),
    }).then(
      () => "answered",
      (err: Error) => err.name,
    );
    expect(hung).toBe("TimeoutError");
    const next = await fetch(`${sim.url}/api/v1/namespaces/faulty/secrets`);
    expect(next.status).toBe(200);
    expect(
      sim
        .requests()
        .slice(before)
        .map((r) => r.status),
    ).toEqual([0, 200]);
  });
});
