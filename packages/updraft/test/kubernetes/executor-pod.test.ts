// The KubernetesExecutor's pure parts: Pod names, labels and annotations, the podOverride merge
// rules (decision 0023), and the Pod a workload becomes, validated against the Kubernetes schema.
import { Pod, Secret } from "kubernetes-models/v1";
import type { V1Pod } from "@kubernetes/client-node";
import { describe, expect, test } from "vitest";
import {
  buildWorkerPod,
  defaultPodTemplate,
  mergePod,
  podAnnotations,
  podKeyFromAnnotations,
  podKeyOf,
  podLabels,
  podName,
  type PodOverride,
} from "../../src/executors/kubernetes/index.js";
import { parseExecutorSetting } from "../../src/executors/index.js";
import type { CallbackWorkload, TaskWorkload } from "../../src/model/execution-api.js";

function workload(over: Partial<TaskWorkload> = {}): TaskWorkload {
  return {
    kind: "task",
    ti: {
      dag_id: "data_pipeline_lab",
      task_id: "generate_data",
      run_id: "manual__2026-11-28T12:00:00+00:00",
      map_index: -1,
    },
    try_number: 1,
    fileloc: "/opt/updraft/dags/data_pipeline_lab.ts",
    token: "SECRET-TOKEN-VALUE",
    api_url: "http://127.0.0.1:8080",
    log_path: "/opt/updraft/logs/x/attempt=1.log",
    fresh_process: false,
    queue: "default",
    priority_weight: 1,
    execution_timeout_ms: null,
    ...over,
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

describe("Pod names", () => {
  test("readable DAG and task ids, then a hash of the whole try: the tutorial's kubectl get pods", () => {
    const name = podName(podKeyOf(workload()));
    expect(name).toMatch(/^data-pipeline-lab-generate-data-[0-9a-f]{10}$/);
    expect(name).toMatch(DNS_LABEL);
  });

  test("deterministic per try, different across tries, runs, map indexes and callbacks", () => {
    const a = podName(podKeyOf(workload()));
    expect(podName(podKeyOf(workload()))).toBe(a);
    const others = [
      workload({ try_number: 2 }),
      workload({ ti: { ...workload().ti, run_id: "manual__other" } }),
      workload({ ti: { ...workload().ti, map_index: 0 } }),
    ].map((w) => podName(podKeyOf(w)));
    const cb: CallbackWorkload = {
      kind: "callback",
      callback: "on_failure",
      ti: workload().ti,
      try_number: 1,
      fileloc: "",
      token: "t",
      api_url: "",
      log_path: "",
    };
    others.push(podName(podKeyOf(cb)));
    expect(new Set([a, ...others]).size).toBe(5);
    expect(podName(podKeyOf(cb))).toMatch(/^data-pipeline-lab-generate-data-on-failure-/);
  });

  test("long and odd ids still give a valid name of at most 63 characters", () => {
    const w = workload({
      ti: {
        dag_id: "Ünïcode DAG/" + "x".repeat(80),
        task_id: "group.task_" + "y".repeat(80),
        run_id: "r",
        map_index: 12,
      },
    });
    const name = podName(podKeyOf(w));
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(DNS_LABEL);
  });
});

describe("labels and annotations", () => {
  test("label-safe values within 63 characters, full ids in annotations, identity read back", () => {
    const w = workload({ ti: { ...workload().ti, task_id: "t".repeat(100) } });
    const key = podKeyOf(w);
    const labels = podLabels(key, "42");
    expect(labels).toMatchObject({
      kubernetes_executor: "True",
      "updraft-worker": "42",
      dag_id: "data_pipeline_lab",
      try_number: "1",
    });
    // Unmapped: no map_index label ("-1" is not a label value), as in Airflow; mapped: its index.
    expect(labels["map_index"]).toBeUndefined();
    expect(podLabels(podKeyOf(workload({ ti: { ...w.ti, map_index: 3 } })), "42")["map_index"]).toBe("3");
    for (const v of Object.values(labels)) {
      expect(v.length).toBeLessThanOrEqual(63);
      expect(v).toMatch(LABEL_VALUE);
    }
    // The run id has ':' and '+', which labels cannot hold: changed, with a hash.
    expect(labels["run_id"]).not.toBe(w.ti.run_id);
    const annotations = podAnnotations(key);
    expect(annotations["run_id"]).toBe(w.ti.run_id);
    expect(annotations["task_id"]).toBe("t".repeat(100));
    expect(podKeyFromAnnotations(annotations)).toEqual(key);
    expect(podKeyFromAnnotations({ dag_id: "x" })).toBeNull();
  });
});

describe("podOverride merge rules", () => {
  const template: V1Pod = {
    metadata: { labels: { team: "data", tier: "batch" }, annotations: { a: "1" } },
    spec: {
      restartPolicy: "Never",
      nodeSelector: { pool: "general", disk: "ssd" },
      tolerations: [{ key: "dedicated", operator: "Equal", value: "airflow", effect: "NoSchedule" }],
      volumes: [
        { name: "logs", persistentVolumeClaim: { claimName: "logs" } },
        { name: "dags", emptyDir: {} },
      ],
      initContainers: [
        { name: "git-sync", image: "git-sync:4", args: ["--one-time"], env: [{ name: "REPO", value: "a" }] },
      ],
      containers: [
        {
          name: "base",
          image: "updraft:1",
          env: [
            { name: "A", value: "template" },
            { name: "SECRET", valueFrom: { secretKeyRef: { name: "s", key: "k" } } },
          ],
          volumeMounts: [{ name: "logs", mountPath: "/opt/updraft/logs" }],
          resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "1Gi" } },
        },
        { name: "sidecar", image: "proxy:1" },
      ],
    },
  };

  test("a GPU limit adds to the template's resources instead of replacing them", () => {
    const merged = mergePod(template, {
      spec: { containers: [{ name: "base", resources: { limits: { "nvidia.com/gpu": "1" } } }] },
    });
    expect(merged.spec?.containers[0]?.resources).toEqual({
      requests: { cpu: "250m", memory: "512Mi" },
      limits: { memory: "1Gi", "nvidia.com/gpu": "1" },
    });
    // Everything else of base stays.
    expect(merged.spec?.containers[0]?.env).toHaveLength(2);
    expect(merged.spec?.containers[0]?.image).toBe("updraft:1");
    expect(merged.spec?.containers[1]).toEqual({ name: "sidecar", image: "proxy:1" });
  });

  test("containers merge by name (an unnamed first container is base), not by position", () => {
    const merged = mergePod(template, {
      spec: {
        containers: [
          { image: "ml:2" } as never,
          { name: "sidecar", image: "proxy:2" },
          { name: "extra", image: "e:1" },
        ],
      },
    });
    expect(merged.spec?.containers.map((c) => [c.name, c.image])).toEqual([
      ["base", "ml:2"],
      ["sidecar", "proxy:2"],
      ["extra", "e:1"],
    ]);
  });

  test("env merges by name and the override's variable replaces the template's whole", () => {
    const merged = mergePod(template, {
      spec: {
        containers: [
          {
            name: "base",
            env: [
              { name: "SECRET", value: "plain" },
              { name: "NEW", value: "n" },
            ],
          },
        ],
      },
    });
    expect(merged.spec?.containers[0]?.env).toEqual([
      { name: "A", value: "template" },
      { name: "SECRET", value: "plain" },
      { name: "NEW", value: "n" },
    ]);
  });

  test("an init container of the template is merged, not duplicated (apache/airflow#61074)", () => {
    const merged = mergePod(template, {
      spec: { initContainers: [{ name: "git-sync", args: ["--one-time", "--submodules=off"] }] },
    });
    expect(merged.spec?.initContainers).toEqual([
      {
        name: "git-sync",
        image: "git-sync:4",
        args: ["--one-time", "--submodules=off"],
        env: [{ name: "REPO", value: "a" }],
      },
    ]);
  });

  test("volumes and mounts by name and path, tolerations de-duplicated, new ones appended", () => {
    const merged = mergePod(template, {
      spec: {
        volumes: [
          { name: "dags", persistentVolumeClaim: { claimName: "dags" } },
          { name: "scratch", emptyDir: { sizeLimit: "1Gi" } },
        ],
        tolerations: [
          { key: "dedicated", operator: "Equal", value: "airflow", effect: "NoSchedule" },
          { key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" },
        ],
        containers: [{ name: "base", volumeMounts: [{ name: "scratch", mountPath: "/scratch" }] }],
      },
    });
    expect(merged.spec?.volumes).toEqual([
      { name: "logs", persistentVolumeClaim: { claimName: "logs" } },
      { name: "dags", persistentVolumeClaim: { claimName: "dags" } },
      { name: "scratch", emptyDir: { sizeLimit: "1Gi" } },
    ]);
    expect(merged.spec?.tolerations).toHaveLength(2);
    expect(merged.spec?.containers[0]?.volumeMounts?.map((m) => m.mountPath)).toEqual([
      "/opt/updraft/logs",
      "/scratch",
    ]);
  });

  test("maps merge key by key, null removes a key; affinity and scalars are replaced", () => {
    const affinity = {
      nodeAffinity: {
        requiredDuringSchedulingIgnoredDuringExecution: {
          nodeSelectorTerms: [{ matchExpressions: [{ key: "gpu", operator: "In", values: ["a100"] }] }],
        },
      },
    };
    const merged = mergePod(template, {
      metadata: { labels: { tier: "gpu" } },
      spec: {
        nodeSelector: { disk: null, accelerator: "a100" } as never,
        affinity,
        restartPolicy: "OnFailure",
      },
    });
    expect(merged.spec?.nodeSelector).toEqual({ pool: "general", accelerator: "a100" });
    expect(merged.metadata?.labels).toEqual({ team: "data", tier: "gpu" });
    expect(merged.spec?.affinity).toEqual(affinity);
    expect(merged.spec?.restartPolicy).toBe("OnFailure");
  });

  test("neither input changes", () => {
    const before = JSON.stringify(template);
    const over: PodOverride = { spec: { containers: [{ name: "base", image: "x" }] } };
    const overBefore = JSON.stringify(over);
    mergePod(template, over);
    expect(JSON.stringify(template)).toBe(before);
    expect(JSON.stringify(over)).toBe(overBefore);
  });
});

describe("the worker Pod of a workload", () => {
  const input = (w: TaskWorkload, template = defaultPodTemplate()) => ({
    workload: w,
    owner: "7",
    namespace: "updraft",
    template,
    image: "updraft:0.1.0",
    imageConfigured: false,
  });

  test("valid against the Kubernetes schema, base runs tasks run, the token only in the Secret", () => {
    const built = buildWorkerPod(input(workload()));
    new Pod(built.pod as never).validate();
    new Secret(built.secret as never).validate();
    const base = built.pod.spec?.containers[0];
    expect(base?.name).toBe("base");
    expect(base?.image).toBe("updraft:0.1.0");
    expect([...(base?.command ?? []), ...(base?.args ?? [])].slice(0, 6)).toEqual([
      "updraft",
      "tasks",
      "run",
      "data_pipeline_lab",
      "generate_data",
      "manual__2026-11-28T12:00:00+00:00",
    ]);
    expect(built.pod.spec?.restartPolicy).toBe("Never");
    expect(built.pod.metadata?.namespace).toBe("updraft");
    // The token: never in the Pod (labels, annotations, command, env values), only in the Secret.
    expect(JSON.stringify(built.pod)).not.toContain("SECRET-TOKEN-VALUE");
    expect(built.secret.stringData?.["token"]).toBe("SECRET-TOKEN-VALUE");
    const tokenEnv = base?.env?.find((e) => e.name === "UPDRAFT_EXECUTION_TOKEN");
    expect(tokenEnv?.valueFrom?.secretKeyRef).toEqual({ name: built.secret.metadata?.name, key: "token" });
    const carried = JSON.parse(
      base?.env?.find((e) => e.name === "UPDRAFT_WORKLOAD")?.value ?? "{}",
    ) as Record<string, unknown>;
    expect(carried["ti"]).toEqual(workload().ti);
    expect(carried["token"]).toBeUndefined();
  });

  test("podOverride: image, GPU, env, volumes, init containers, node selector, tolerations, affinity", () => {
    const w = workload({
      executor_config: {
        podOverride: {
          spec: {
            nodeSelector: { accelerator: "nvidia-a100" },
            tolerations: [{ key: "nvidia.com/gpu", operator: "Exists", effect: "NoSchedule" }],
            affinity: {
              nodeAffinity: {
                preferredDuringSchedulingIgnoredDuringExecution: [
                  {
                    weight: 1,
                    preference: { matchExpressions: [{ key: "zone", operator: "In", values: ["a"] }] },
                  },
                ],
              },
            },
            volumes: [{ name: "data", emptyDir: {} }],
            initContainers: [{ name: "fetch", image: "busybox:1.37", command: ["true"] }],
            containers: [
              {
                name: "base",
                image: "ml-worker:2",
                env: [{ name: "MODEL", value: "resnet" }],
                volumeMounts: [{ name: "data", mountPath: "/data" }],
                resources: {
                  requests: { cpu: "2", memory: "8Gi" },
                  limits: { "nvidia.com/gpu": "1", memory: "16Gi" },
                },
              },
            ],
          },
        },
      },
    });
    const built = buildWorkerPod(input(w));
    new Pod(built.pod as never).validate();
    const spec = built.pod.spec;
    const base = spec?.containers[0];
    expect(base?.image).toBe("ml-worker:2");
    expect(base?.resources?.limits?.["nvidia.com/gpu"]).toBe("1");
    expect(base?.env?.map((e) => e.name)).toEqual([
      "MODEL",
      "UPDRAFT_WORKLOAD",
      "UPDRAFT_EXECUTION_TOKEN",
      "UPDRAFT_IS_K8S_EXECUTOR_POD",
    ]);
    expect(spec?.initContainers?.[0]?.name).toBe("fetch");
    expect(spec?.nodeSelector).toEqual({ accelerator: "nvidia-a100" });
    expect(spec?.tolerations).toHaveLength(1);
    expect(spec?.affinity?.nodeAffinity).toBeDefined();
    // The executor's settings are not passed on to the runner.
    expect(base?.env?.find((e) => e.name === "UPDRAFT_WORKLOAD")?.value).not.toContain("podOverride");
  });

  test("a configured image wins over the template's; the template's wins over the default", () => {
    const template = defaultPodTemplate();
    (template.spec?.containers[0] as { image?: string }).image = "registry/updraft:custom";
    expect(buildWorkerPod(input(workload(), template)).pod.spec?.containers[0]?.image).toBe(
      "registry/updraft:custom",
    );
    expect(
      buildWorkerPod({ ...input(workload(), template), image: "repo/u:9", imageConfigured: true }).pod.spec
        ?.containers[0]?.image,
    ).toBe("repo/u:9");
  });

  test("ids holding $( reach the runner unchanged: Kubernetes expands $(VAR), $$( is its escape", () => {
    const w = workload({ ti: { ...workload().ti, run_id: "manual__$(HOME)" } });
    const base = buildWorkerPod(input(w)).pod.spec?.containers[0];
    expect(base?.args).toContain("manual__$$(HOME)");
    expect(base?.env?.find((e) => e.name === "UPDRAFT_WORKLOAD")?.value).toContain(
      '"run_id":"manual__$$(HOME)"',
    );
  });

  test("a podOverride that is not an object is refused with a message", () => {
    expect(() => buildWorkerPod(input(workload({ executor_config: { podOverride: "big" } })))).toThrow(
      /not an object/,
    );
  });
});

describe("core.executor", () => {
  test("names executors in any case, the first the default; unknown names are refused with the key", () => {
    expect(parseExecutorSetting("KubernetesExecutor")).toEqual(["KubernetesExecutor"]);
    expect(parseExecutorSetting(" localexecutor ")).toEqual(["LocalExecutor"]);
    expect(parseExecutorSetting("")).toEqual(["LocalExecutor"]);
    expect(() => parseExecutorSetting("CeleryExecutor")).toThrow(/core\.executor.*CeleryExecutor/);
    // Several at once (decision 0027): src/model/executor-names.test.ts has the details.
    expect(parseExecutorSetting("KubernetesExecutor,LocalExecutor")).toEqual([
      "KubernetesExecutor",
      "LocalExecutor",
    ]);
  });
});
