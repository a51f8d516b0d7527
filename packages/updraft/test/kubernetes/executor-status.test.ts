// Pod phases and container reasons → what the KubernetesExecutor reports (pure).
import type { V1Pod, V1PodStatus } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import { pendingTimeoutReason, podVerdict } from "../../src/executors/kubernetes/index.js";
import { loadConfig } from "../../src/config/index.js";

function pod(status: V1PodStatus): V1Pod {
  return { metadata: { name: "p-1" }, status };
}

const waiting = (reason: string, message?: string): V1PodStatus => ({
  phase: "Pending",
  containerStatuses: [
    {
      name: "base",
      image: "nope:1",
      imageID: "",
      ready: false,
      restartCount: 0,
      state: { waiting: { reason, ...(message === undefined ? {} : { message }) } },
    },
  ],
});

describe("podVerdict", () => {
  test("Succeeded is finished; Running and Unknown are running; plain Pending waits", () => {
    expect(podVerdict(pod({ phase: "Succeeded" }))).toEqual({ kind: "succeeded" });
    expect(podVerdict(pod({ phase: "Running" }))).toEqual({ kind: "running" });
    expect(podVerdict(pod({ phase: "Unknown" }))).toEqual({ kind: "running" });
    expect(podVerdict(pod({ phase: "Pending" }))).toEqual({ kind: "pending", unschedulable: null });
    expect(podVerdict(pod(waiting("ContainerCreating")))).toEqual({ kind: "pending", unschedulable: null });
  });

  test.each(["ErrImagePull", "ImagePullBackOff", "InvalidImageName", "CreateContainerConfigError"])(
    "a container waiting with %s fails the try at once, with the reason and the image",
    (reason) => {
      const v = podVerdict(pod(waiting(reason, "pull access denied")));
      expect(v.kind).toBe("failed");
      expect(v.kind === "failed" && v.reason).toBe(
        `Pod p-1 ${reason}: container base (image nope:1) cannot start: pull access denied`,
      );
    },
  );

  test("the kubelet's own pull throttling is not the image's fault", () => {
    expect(podVerdict(pod(waiting("ErrImagePull", "pull QPS exceeded"))).kind).toBe("pending");
  });

  test("CrashLoopBackOff of a restarted container fails the try", () => {
    const s = waiting("CrashLoopBackOff", "back-off 10s restarting failed container");
    s.phase = "Running";
    const v = podVerdict(pod(s));
    expect(v.kind === "failed" && v.reason).toMatch(/^Pod p-1 CrashLoopBackOff: container base/);
  });

  test("OOMKilled, eviction, an init container and a plain exit code each say why", () => {
    const oom = podVerdict(
      pod({
        phase: "Failed",
        containerStatuses: [
          {
            name: "base",
            image: "u",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 137, reason: "OOMKilled" } },
          },
        ],
      }),
    );
    expect(oom).toEqual({
      kind: "failed",
      reason: "Pod p-1 failed: OOMKilled: container base ran out of memory and was killed (exit code 137)",
    });
    const evicted = podVerdict(
      pod({ phase: "Failed", reason: "Evicted", message: "The node was low on resource: memory." }),
    );
    expect(evicted.kind === "failed" && evicted.reason).toBe(
      "Pod p-1 failed: Evicted: the node evicted the Pod: The node was low on resource: memory.",
    );
    const init = podVerdict(
      pod({
        phase: "Failed",
        initContainerStatuses: [
          {
            name: "git-sync",
            image: "g",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 2, reason: "Error" } },
          },
        ],
      }),
    );
    expect(init.kind === "failed" && init.reason).toBe(
      "Pod p-1 failed: init container git-sync failed with exit code 2 (Error)",
    );
    const exit = podVerdict(
      pod({
        phase: "Failed",
        containerStatuses: [
          {
            name: "sidecar",
            image: "s",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 0 } },
          },
          {
            name: "base",
            image: "u",
            imageID: "",
            ready: false,
            restartCount: 0,
            state: { terminated: { exitCode: 1, reason: "Error" } },
          },
        ],
      }),
    );
    expect(exit.kind === "failed" && exit.reason).toBe(
      "Pod p-1 failed: container base exited with code 1 (Error)",
    );
  });

  test("a Pod deleted before it ended lost its try; an ended one deleted is what it was", () => {
    const v = podVerdict(pod({ phase: "Running" }), true);
    expect(v.kind === "failed" && v.reason).toMatch(/was deleted while Running/);
    expect(podVerdict(pod({ phase: "Succeeded" }), true)).toEqual({ kind: "succeeded" });
  });

  test("Unschedulable keeps waiting (a node may come) and names the scheduler's message at the timeout", () => {
    const s: V1PodStatus = {
      phase: "Pending",
      conditions: [
        {
          type: "PodScheduled",
          status: "False",
          reason: "Unschedulable",
          message: "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
        },
      ],
    };
    expect(podVerdict(pod(s))).toEqual({
      kind: "pending",
      unschedulable: "Unschedulable: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
    });
    expect(pendingTimeoutReason(pod(s), 300)).toBe(
      "Pod p-1 stayed Pending for over 300 s (kubernetes_executor.worker_pods_pending_timeout); Unschedulable: 0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
    );
  });
});

describe("kubernetes_executor settings", () => {
  test("Airflow's names and defaults; booleans from the environment as Airflow writes them", () => {
    const defaults = loadConfig({ env: {} }).kubernetes_executor;
    expect(defaults).toMatchObject({
      namespace: "default",
      delete_worker_pods: true,
      delete_worker_pods_on_failure: false,
      worker_pods_pending_timeout: 300,
      worker_pods_creation_batch_size: 1,
    });
    const env = {
      UPDRAFT__KUBERNETES_EXECUTOR__DELETE_WORKER_PODS: "False",
      UPDRAFT__KUBERNETES_EXECUTOR__DELETE_WORKER_PODS_ON_FAILURE: "True",
      UPDRAFT__KUBERNETES_EXECUTOR__WORKER_PODS_PENDING_TIMEOUT: "2m",
      UPDRAFT__CORE__EXECUTOR: "KubernetesExecutor",
    };
    const c = loadConfig({ env });
    expect(c.kubernetes_executor.delete_worker_pods).toBe(false);
    expect(c.kubernetes_executor.delete_worker_pods_on_failure).toBe(true);
    expect(c.kubernetes_executor.worker_pods_pending_timeout).toBe(120);
    expect(c.core.executor).toBe("KubernetesExecutor");
  });
});
