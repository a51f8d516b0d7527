// Selectors, watches (resume, 410 Gone after compaction, timeouts, selector transitions) and Events.
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type KubeSim, startKubeSim } from "./index.js";
import { clients, podPhase, statusOf, waitFor } from "./testing.js";

let sim: KubeSim;
let core: k8s.CoreV1Api;
let kc: k8s.KubeConfig;
const ns = "watching";

beforeAll(async () => {
  sim = await startKubeSim({ startDelayMs: 10, historyLimit: 500, bookmarkMs: 300 });
  ({ core, kc } = clients(sim));
});
afterAll(async () => {
  await sim.close();
});

const pod = (name: string, labels: Record<string, string>, script = "true"): k8s.V1Pod => ({
  metadata: { name, labels },
  spec: {
    restartPolicy: "Never",
    containers: [{ name: "base", image: "busybox", command: ["sh", "-c", script] }],
  },
});

interface Seen {
  type: string;
  name: string;
  rv: string;
  phase?: string;
  object: Record<string, unknown>;
}

/** A watch through the official client's Watch, collecting events until stopped. */
async function watch(path: string, query: Record<string, string | number | boolean>) {
  const seen: Seen[] = [];
  let ended: unknown = "open";
  const controller = await new k8s.Watch(kc).watch(
    path,
    query,
    (
      type,
      object: { metadata?: { name?: string; resourceVersion?: string }; status?: { phase?: string } },
    ) => {
      seen.push({
        type,
        name: object.metadata?.name ?? "",
        rv: object.metadata?.resourceVersion ?? "",
        ...(object.status?.phase === undefined ? {} : { phase: object.status.phase }),
        object: object as Record<string, unknown>,
      });
    },
    (err) => (ended = err),
  );
  return { seen, ended: () => ended, stop: () => controller.abort() };
}

describe("selectors", () => {
  beforeAll(async () => {
    await core.createNamespacedPod({ namespace: ns, body: pod("a1", { dag_id: "lab", task_id: "extract" }) });
    await core.createNamespacedPod({ namespace: ns, body: pod("a2", { dag_id: "lab", task_id: "load" }) });
    await core.createNamespacedPod({ namespace: ns, body: pod("b1", { dag_id: "other" }, "sleep 30") });
    await waitFor(
      "a1, a2 Succeeded",
      () => podPhase(sim, "a1", ns) === "Succeeded" && podPhase(sim, "a2", ns) === "Succeeded",
    );
    await waitFor("b1 Running", () => podPhase(sim, "b1", ns) === "Running");
  });

  const names = async (labelSelector?: string, fieldSelector?: string) =>
    (
      await core.listNamespacedPod({
        namespace: ns,
        ...(labelSelector === undefined ? {} : { labelSelector }),
        ...(fieldSelector === undefined ? {} : { fieldSelector }),
      })
    ).items
      .map((p) => p.metadata!.name)
      .sort();

  it("filters by label selector (=, ==, !=, in, notin, exists, !key)", async () => {
    expect(await names("dag_id=lab")).toEqual(["a1", "a2"]);
    expect(await names("dag_id==lab,task_id=load")).toEqual(["a2"]);
    expect(await names("dag_id!=lab")).toEqual(["b1"]);
    expect(await names("task_id in (extract, load)")).toEqual(["a1", "a2"]);
    expect(await names("dag_id notin (lab)")).toEqual(["b1"]);
    expect(await names("task_id")).toEqual(["a1", "a2"]);
    expect(await names("!task_id")).toEqual(["b1"]);
  });

  it("filters by field selector and lists across namespaces", async () => {
    expect(await names(undefined, "status.phase=Running")).toEqual(["b1"]);
    expect(await names(undefined, "metadata.name=a2")).toEqual(["a2"]);
    expect(await names("dag_id=lab", "status.phase!=Running,spec.nodeName=kube-sim-node")).toEqual([
      "a1",
      "a2",
    ]);
    const all = await core.listPodForAllNamespaces({ labelSelector: "dag_id=lab" });
    expect(all.items.map((p) => `${p.metadata!.namespace}/${p.metadata!.name}`).sort()).toEqual([
      `${ns}/a1`,
      `${ns}/a2`,
    ]);
  });

  it("answers 400 for a selector it cannot parse and for a field it does not index", async () => {
    expect(
      (await statusOf(core.listNamespacedPod({ namespace: ns, labelSelector: "dag_id in lab" }))).code,
    ).toBe(400);
    const field = await statusOf(core.listNamespacedPod({ namespace: ns, fieldSelector: "spec.image=x" }));
    expect(field.code).toBe(400);
    expect(String(field.body.message)).toContain("field label not supported: spec.image");
  });

  it("paginates with limit and continue", async () => {
    const first = await core.listNamespacedPod({ namespace: ns, limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.metadata?._continue).toBeTruthy();
    const rest = await core.listNamespacedPod({
      namespace: ns,
      limit: 2,
      _continue: first.metadata!._continue!,
    });
    expect([...first.items, ...rest.items].map((p) => p.metadata!.name)).toEqual(["a1", "a2", "b1"]);
    expect(rest.metadata?._continue).toBeUndefined();
  });

  it("records Events a real node reports, selectable by involved object", async () => {
    const events = await core.listNamespacedEvent({ namespace: ns, fieldSelector: "involvedObject.name=a1" });
    const reasons = events.items.map((e) => e.reason);
    expect(reasons).toEqual(expect.arrayContaining(["Scheduled", "Pulled", "Created", "Started"]));
    expect(events.items.every((e) => e.involvedObject.kind === "Pod" && e.involvedObject.name === "a1")).toBe(
      true,
    );
  });
});

describe("watch", () => {
  it("streams ADDED, MODIFIED and DELETED after a list's resourceVersion, filtered by label", async () => {
    const list = await core.listNamespacedPod({ namespace: ns, labelSelector: "w=1" });
    const w = await watch(`/api/v1/namespaces/${ns}/pods`, {
      resourceVersion: list.metadata!.resourceVersion!,
      labelSelector: "w=1",
    });
    await core.createNamespacedPod({ namespace: ns, body: pod("w1", { w: "1" }) });
    await core.createNamespacedPod({ namespace: ns, body: pod("w-other", { w: "2" }) });
    await waitFor("Succeeded event", () => w.seen.some((e) => e.name === "w1" && e.phase === "Succeeded"));
    await core.deleteNamespacedPod({ name: "w1", namespace: ns });
    await waitFor("DELETED event", () => w.seen.some((e) => e.type === "DELETED"));
    w.stop();
    expect(w.seen[0]).toMatchObject({ type: "ADDED", name: "w1", phase: "Pending" });
    expect(new Set(w.seen.map((e) => e.name))).toEqual(new Set(["w1"]));
    const phases = w.seen.filter((e) => e.type === "MODIFIED").map((e) => e.phase);
    expect(phases).toContain("Running");
    const rvs = w.seen.map((e) => Number(e.rv));
    expect([...rvs].sort((a, b) => a - b)).toEqual(rvs);
  });

  it("turns a change out of the selector into DELETED and into it into ADDED", async () => {
    await core.createNamespacedPod({ namespace: ns, body: pod("mover", { stage: "a" }, "sleep 30") });
    const w = await watch(`/api/v1/namespaces/${ns}/pods`, { labelSelector: "stage=b" });
    await core.patchNamespacedPod({
      name: "mover",
      namespace: ns,
      body: [{ op: "replace", path: "/metadata/labels/stage", value: "b" }],
    });
    await waitFor("ADDED", () => w.seen.some((e) => e.type === "ADDED"));
    await core.patchNamespacedPod({
      name: "mover",
      namespace: ns,
      body: [{ op: "replace", path: "/metadata/labels/stage", value: "c" }],
    });
    await waitFor("DELETED", () => w.seen.some((e) => e.type === "DELETED"));
    w.stop();
    await core.deleteNamespacedPod({ name: "mover", namespace: ns, gracePeriodSeconds: 0 });
  });

  it("resumes after a disconnect from the last resourceVersion without losing events", async () => {
    const list = await core.listNamespacedPod({ namespace: ns, labelSelector: "r=1" });
    const first = await watch(`/api/v1/namespaces/${ns}/pods`, {
      resourceVersion: list.metadata!.resourceVersion!,
      labelSelector: "r=1",
    });
    await core.createNamespacedPod({ namespace: ns, body: pod("r1", { r: "1" }) });
    await waitFor("ADDED r1", () => first.seen.some((e) => e.name === "r1"));
    sim.inject({ type: "WatchDisconnect", path: "r%3D1" });
    await waitFor("the watch ended", () => first.ended() !== "open");
    const last = first.seen[first.seen.length - 1]!.rv;
    await core.createNamespacedPod({ namespace: ns, body: pod("r2", { r: "1" }) });
    const second = await watch(`/api/v1/namespaces/${ns}/pods`, {
      resourceVersion: last,
      labelSelector: "r=1",
    });
    await waitFor("r2 Succeeded", () => second.seen.some((e) => e.name === "r2" && e.phase === "Succeeded"));
    second.stop();
    expect(second.seen[0]).toMatchObject({ type: expect.stringMatching(/ADDED|MODIFIED/) });
    expect(second.seen.map((e) => Number(e.rv)).every((rv) => rv > Number(last))).toBe(true);
  });

  it("answers an ERROR event with a 410 Expired Status once the history was compacted", async () => {
    const list = await core.listNamespacedPod({ namespace: ns });
    await core.createNamespacedPod({ namespace: ns, body: pod("c1", {}) });
    sim.inject({ type: "CompactHistory" });
    const w = await watch(`/api/v1/namespaces/${ns}/pods`, {
      resourceVersion: list.metadata!.resourceVersion!,
    });
    await waitFor("the watch ended", () => w.ended() !== "open");
    expect(w.seen).toHaveLength(1);
    expect(w.seen[0]!.type).toBe("ERROR");
    expect(w.seen[0]!.object).toMatchObject({ kind: "Status", code: 410, reason: "Expired" });
    // A relist gives a resourceVersion that can be watched from again.
    const relist = await core.listNamespacedPod({ namespace: ns });
    const again = await watch(`/api/v1/namespaces/${ns}/pods`, {
      resourceVersion: relist.metadata!.resourceVersion!,
    });
    await core.createNamespacedPod({ namespace: ns, body: pod("c2", {}) });
    await waitFor("ADDED c2", () => again.seen.some((e) => e.type === "ADDED" && e.name === "c2"));
    again.stop();
  });

  it("ends a watch after timeoutSeconds and sends bookmarks when allowed", async () => {
    const started = Date.now();
    const w = await watch(`/api/v1/namespaces/${ns}/secrets`, {
      timeoutSeconds: 1,
      allowWatchBookmarks: true,
      resourceVersion: String(
        Number((await core.listNamespacedSecret({ namespace: ns })).metadata!.resourceVersion),
      ),
    });
    await waitFor("the watch ended", () => w.ended() !== "open", 10_000);
    expect(w.ended()).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(w.seen.some((e) => e.type === "BOOKMARK")).toBe(true);
  });

  it("without a resourceVersion, starts with the current objects as ADDED", async () => {
    const w = await watch(`/api/v1/namespaces/${ns}/pods`, { labelSelector: "dag_id=lab" });
    await waitFor("two ADDED", () => w.seen.length >= 2);
    w.stop();
    expect(w.seen.map((e) => `${e.type} ${e.name}`).sort()).toEqual(["ADDED a1", "ADDED a2"]);
  });

  it("keeps the official client's informer in sync through disconnects and a compaction (relist on 410)", async () => {
    const path = `/api/v1/namespaces/${ns}/pods`;
    const informer = k8s.makeInformer(
      kc,
      path,
      () => core.listNamespacedPod({ namespace: ns, labelSelector: "inf=1" }),
      "inf=1",
    );
    const errors: unknown[] = [];
    informer.on("error", (err) => errors.push(err));
    await informer.start();
    const names = () =>
      informer
        .list()
        .map((p) => p.metadata!.name)
        .sort();
    const lists = () =>
      sim
        .requests()
        .filter((r) => r.path === path && r.query.includes("inf%3D1") && !r.query.includes("watch=")).length;
    try {
      await core.createNamespacedPod({ namespace: ns, body: pod("inf-a", { inf: "1" }) });
      await waitFor("inf-a in the cache", () => names().includes("inf-a"));
      const listsBefore = lists();
      // A dropped connection: the informer resumes from its resourceVersion, without a relist.
      sim.inject({ type: "WatchDisconnect", path: "inf%3D1" });
      await core.createNamespacedPod({ namespace: ns, body: pod("inf-b", { inf: "1" }) });
      await waitFor("inf-b in the cache", () => names().includes("inf-b"));
      expect(lists()).toBe(listsBefore);
      // Compaction, then a drop: its resourceVersion is too old, it gets 410 and relists. (The
      // Secret moves the revision past the informer's, as other writes do on a real cluster.)
      await core.createNamespacedSecret({ namespace: ns, body: { metadata: { generateName: "bump-" } } });
      sim.inject({ type: "CompactHistory" });
      sim.inject({ type: "WatchDisconnect", path: "inf%3D1" });
      await core.createNamespacedPod({ namespace: ns, body: pod("inf-c", { inf: "1" }) });
      await waitFor("inf-c in the cache", () => names().includes("inf-c"));
      await waitFor("a relist", () => lists() > listsBefore);
      expect(names()).toEqual(["inf-a", "inf-b", "inf-c"]);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});
