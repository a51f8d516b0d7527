// The chart under the QueueExecutor (issue 12): `updraft worker` Pods in a StatefulSet behind a
// headless Service, Redis built in or external from a Secret, and KEDA's ScaledObject, rendered by
// the real helm and validated against the Kubernetes (and KEDA) schema. KEDA's query runs on a
// real PostgreSQL with Updraft's schema. Nothing of it renders without the QueueExecutor.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { sql } from "kysely";
import { stringify } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";
import { CHART, LAB_VALUES, PRODUCTION_VALUES, find, helm, notes, render, type Manifest } from "./render.js";
import { container, decoded, envOf, podSpec, workloads, type Container } from "./manifests.js";
import { schemaProblems } from "./validate.js";

afterAll(() => cleanupTempDirs());

let valuesDir: string | undefined;
/** A values file with these values (lists and commas need no --set escaping). */
function valuesFile(values: Record<string, unknown>): string {
  valuesDir ??= tempDir("updraft-chart-values-");
  const file = join(valuesDir, `values-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, stringify(values));
  return file;
}
const renderWith = (values: Record<string, unknown>, files: string[] = []): Manifest[] =>
  render([...files, valuesFile(values)]);
const failsWith = (values: Record<string, unknown>): string => {
  const r = helm(["template", "airflow", CHART, "--namespace", "airflow", "--values", valuesFile(values)]);
  expect(r.status, "helm template should have failed").not.toBe(0);
  return r.stderr;
};

function expectValid(ms: Manifest[]): void {
  expect(ms.flatMap(schemaProblems)).toEqual([]);
}

/** The objects only the QueueExecutor brings. */
const queueObjects = (ms: Manifest[]): string[] =>
  ms
    .filter(
      (m) =>
        (m.kind === "StatefulSet" && m.metadata.name !== "airflow-postgresql") ||
        (m.kind === "Service" && ["airflow-worker", "airflow-redis"].includes(m.metadata.name)) ||
        (m.kind === "Secret" && ["airflow-broker-url", "airflow-redis-password"].includes(m.metadata.name)) ||
        m.apiVersion.startsWith("keda.sh/"),
    )
    .map((m) => `${m.kind}/${m.metadata.name}`);

const brokerEnv = (c: Container) => envOf(c).get("UPDRAFT__QUEUE__BROKER_URL");

describe("without the QueueExecutor", () => {
  it.each([
    ["the default values (KubernetesExecutor)", {}],
    ["LocalExecutor", { executor: "LocalExecutor" }],
    ["LocalExecutor,KubernetesExecutor", { executor: "LocalExecutor,KubernetesExecutor" }],
    [
      "KubernetesExecutor with every worker and broker value set",
      {
        workers: { replicas: 3, queues: ["gpu"], concurrency: 2 },
        data: { brokerUrl: "redis://r:6379/0", brokerTlsSecretName: "redis-tls" },
      },
    ],
  ])("%s: no worker, Redis or KEDA objects, and no broker URL anywhere", (_what, values) => {
    const ms = renderWith(values);
    expect(queueObjects(ms)).toEqual([]);
    for (const m of workloads(ms)) {
      expect(podSpec(m).volumes?.map((v) => v.name) ?? [], m.metadata.name).not.toContain("broker-tls");
      for (const c of podSpec(m).containers)
        expect(brokerEnv(c), `${m.metadata.name}/${c.name}`).toBeUndefined();
    }
  });
});

describe("QueueExecutor with the chart's Redis", () => {
  let ms: Manifest[];
  beforeAll(() => {
    ms = renderWith({ executor: "QueueExecutor" });
  });

  it("renders valid manifests: a worker StatefulSet and headless Service, Redis, their Secrets", () => {
    expectValid(ms);
    expect(queueObjects(ms).sort()).toEqual([
      "Secret/airflow-broker-url",
      "Secret/airflow-redis-password",
      "Service/airflow-redis",
      "Service/airflow-worker",
      "StatefulSet/airflow-redis",
      "StatefulSet/airflow-worker",
    ]);
    // No pod template without the KubernetesExecutor, and the scheduler mounts none.
    expect(ms.some((m) => m.metadata.name === "airflow-pod-template")).toBe(false);
    const scheduler = find(ms, "Deployment", "airflow-scheduler");
    expect(podSpec(scheduler).volumes?.map((v) => v.name)).toEqual(["logs"]);
    expect(envOf(container(scheduler)).get("UPDRAFT__CORE__EXECUTOR")?.value).toBe("QueueExecutor");
  });

  it("runs `updraft worker` with the worker settings as env, server_url from the Pod's name", () => {
    const worker = find(ms, "StatefulSet", "airflow-worker");
    expect(worker["spec"]).toMatchObject({
      serviceName: "airflow-worker",
      replicas: 1,
      podManagementPolicy: "Parallel",
    });
    const c = container(worker, "worker");
    expect(c.args).toEqual(["worker"]);
    const env = envOf(c);
    const values = (name: string) => env.get(name)?.value;
    expect(
      ["QUEUES", "CONCURRENCY", "MAX_TASKS", "DRAIN_TIMEOUT", "SERVER_PORT"].map((k) =>
        values(`UPDRAFT__WORKER__${k}`),
      ),
    ).toEqual(["default", "16", "0", "600", "8793"]);
    expect(values("UPDRAFT__WORKER__SERVER_URL")).toBe("http://$(POD_NAME).airflow-worker.airflow.svc:8793");
    // Kubernetes expands $(POD_NAME) only from a variable defined before the one that uses it.
    const names = (c.env ?? []).map((e) => e.name);
    expect(names.indexOf("POD_NAME")).toBeGreaterThanOrEqual(0);
    expect(names.indexOf("POD_NAME")).toBeLessThan(names.indexOf("UPDRAFT__WORKER__SERVER_URL"));
    expect(env.get("POD_NAME")?.valueFrom?.fieldRef).toEqual({ fieldPath: "metadata.name" });
    expect(values("UPDRAFT__CORE__EXECUTION_API_SERVER_URL")).toBe(
      "http://airflow-api-server.airflow.svc:8080/execution/",
    );
    const svc = find(ms, "Service", "airflow-worker")["spec"] as Record<string, unknown>;
    expect(svc).toMatchObject({
      clusterIP: "None",
      publishNotReadyAddresses: true,
      selector: (worker["spec"] as { selector: { matchLabels: unknown } }).selector.matchLabels,
      ports: [{ name: "worker-server", port: 8793, targetPort: "worker-server" }],
    });
  });

  it("gives workers Redis, the execution API and the API server's secret key, never the database", () => {
    const c = container(find(ms, "StatefulSet", "airflow-worker"), "worker");
    const env = envOf(c);
    expect(env.has("UPDRAFT__DATABASE__SQL_ALCHEMY_CONN")).toBe(false);
    expect(env.has("UPDRAFT__CORE__FERNET_KEY")).toBe(false);
    expect(brokerEnv(c)?.valueFrom?.secretKeyRef).toEqual({ name: "airflow-broker-url", key: "connection" });
    const apiKey = envOf(container(find(ms, "Deployment", "airflow-api-server"))).get(
      "UPDRAFT__API__SECRET_KEY",
    );
    expect(env.get("UPDRAFT__API__SECRET_KEY")?.valueFrom?.secretKeyRef).toEqual(
      apiKey?.valueFrom?.secretKeyRef,
    );
    expect(apiKey?.valueFrom?.secretKeyRef?.name).toBe("airflow-api-secret-key");
  });

  it("gives the broker URL to the scheduler and the API server only, by secretKeyRef", () => {
    const having = workloads(ms)
      .flatMap((m) => podSpec(m).containers.map((c) => [m.metadata.name, brokerEnv(c)] as const))
      .filter(([, e]) => e !== undefined);
    expect(having.map(([n]) => n).sort()).toEqual([
      "airflow-api-server",
      "airflow-scheduler",
      "airflow-worker",
    ]);
    for (const [name, e] of having) {
      expect(e?.value, name).toBeUndefined();
      expect(e?.valueFrom?.secretKeyRef, name).toEqual({ name: "airflow-broker-url", key: "connection" });
    }
  });

  it("keeps the broker URL and Redis's password out of every Pod spec", () => {
    const password = decoded(find(ms, "Secret", "airflow-redis-password"))["password"]!;
    expect(password).toMatch(/^[A-Za-z0-9]{32}$/);
    const url = decoded(find(ms, "Secret", "airflow-broker-url"))["connection"]!;
    expect(url).toBe(`redis://:${password}@airflow-redis.airflow.svc:6379/0`);
    for (const m of ms.filter((x) => x.kind !== "Secret")) {
      const text = JSON.stringify(m);
      expect(text.includes(password), `${m.kind}/${m.metadata.name} holds Redis's password`).toBe(false);
    }
  });

  it("probes /health on the worker server's port and outlasts the drain timeout", () => {
    const worker = find(ms, "StatefulSet", "airflow-worker");
    const c = container(worker, "worker");
    expect(c.ports).toEqual([{ name: "worker-server", containerPort: 8793, protocol: "TCP" }]);
    for (const probe of [c.livenessProbe, c.readinessProbe]) {
      expect(probe?.httpGet).toEqual({ path: "/health", port: "worker-server" });
    }
    const drain = Number(envOf(c).get("UPDRAFT__WORKER__DRAIN_TIMEOUT")?.value);
    expect(podSpec(worker).terminationGracePeriodSeconds).toBeGreaterThan(drain);
  });

  it("runs workers like the other components: same user, security context, task Pods' account", () => {
    const worker = find(ms, "StatefulSet", "airflow-worker");
    const scheduler = find(ms, "Deployment", "airflow-scheduler");
    expect(podSpec(worker).securityContext).toEqual(podSpec(scheduler).securityContext);
    expect(container(worker).securityContext).toEqual(container(scheduler).securityContext);
    expect(podSpec(worker).serviceAccountName).toBe("airflow-worker");
    // The worker account may launch Pods (KubernetesPodOperator) and may not read Secrets.
    const subjects = (name: string) =>
      (find(ms, "RoleBinding", name)["subjects"] as { name: string }[]).map((s) => s.name);
    expect(subjects("airflow-pod-launcher")).toContain("airflow-worker");
    expect(subjects("airflow-task-secrets")).not.toContain("airflow-worker");
    expect(container(worker).volumeMounts).toEqual([
      { name: "dags", mountPath: "/opt/updraft/dags", readOnly: true },
      { name: "logs", mountPath: "/opt/updraft/logs" },
    ]);
  });

  it("runs Redis non-root with the password from its Secret, without persistence", () => {
    const redis = find(ms, "StatefulSet", "airflow-redis");
    const c = container(redis, "redis");
    expect(c.command).toEqual(["redis-server"]);
    expect(c.args).toEqual(["--requirepass", "$(REDIS_PASSWORD)", "--save", "", "--appendonly", "no"]);
    expect(envOf(c).get("REDIS_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({
      name: "airflow-redis-password",
      key: "password",
    });
    expect(podSpec(redis).securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 999 });
    expect(redis["spec"]).not.toHaveProperty("volumeClaimTemplates");
    expect(podSpec(redis).volumes).toEqual([{ name: "data", emptyDir: {} }]);
    expect(find(ms, "Service", "airflow-redis")["spec"]).toMatchObject({
      ports: [{ port: 6379, targetPort: "redis" }],
    });
  });

  it("keeps Redis on a claim when redis.persistence.enabled", () => {
    const redis = find(
      renderWith({ executor: "QueueExecutor", redis: { persistence: { enabled: true, size: "2Gi" } } }),
      "StatefulSet",
      "airflow-redis",
    );
    expect(container(redis).args).toEqual(["--requirepass", "$(REDIS_PASSWORD)", "--appendonly", "yes"]);
    expect(redis["spec"]).toMatchObject({
      volumeClaimTemplates: [
        { metadata: { name: "data" }, spec: { resources: { requests: { storage: "2Gi" } } } },
      ],
    });
  });

  it("says in NOTES.txt where the workers are", () => {
    const text = notes([valuesFile({ executor: "QueueExecutor", workers: { queues: ["default", "gpu"] } })]);
    expect(text).toContain(
      "QueueExecutor workers (StatefulSet airflow-worker) take tasks from the queues default, gpu",
    );
    expect(text).toContain("Redis: airflow-redis.");
    expect(text).not.toContain("Task Pods (one per task try)");
  });
});

describe("worker values", () => {
  it("replicas, queues, concurrency, maxTasks, resources, placement and labels reach the workers", () => {
    const resources = { requests: { cpu: "1", memory: "2Gi" }, limits: { memory: "4Gi" } };
    const ms = renderWith({
      executor: "QueueExecutor",
      workers: {
        replicas: 3,
        queues: ["default", "gpu"],
        concurrency: 4,
        maxTasks: 100,
        drainTimeout: 120,
        terminationGracePeriodSeconds: 150,
        resources,
        nodeSelector: { pool: "workers" },
        labels: { team: "data" },
      },
    });
    expectValid(ms);
    const worker = find(ms, "StatefulSet", "airflow-worker");
    const c = container(worker);
    const env = envOf(c);
    expect((worker["spec"] as { replicas: number }).replicas).toBe(3);
    expect(env.get("UPDRAFT__WORKER__QUEUES")?.value).toBe("default,gpu");
    expect(env.get("UPDRAFT__WORKER__CONCURRENCY")?.value).toBe("4");
    expect(env.get("UPDRAFT__WORKER__MAX_TASKS")?.value).toBe("100");
    expect(env.get("UPDRAFT__WORKER__DRAIN_TIMEOUT")?.value).toBe("120");
    expect(podSpec(worker).terminationGracePeriodSeconds).toBe(150);
    expect(c.resources).toEqual(resources);
    expect(worker["spec"]).toMatchObject({
      template: { metadata: { labels: { team: "data" } }, spec: { nodeSelector: { pool: "workers" } } },
    });
  });

  it("the tutorial's production values with the QueueExecutor: logs claim, git-sync, env and envFrom", () => {
    const ms = renderWith(
      { executor: "QueueExecutor", webserver: { defaultUser: { password: "a-real-password" } } },
      [PRODUCTION_VALUES],
    );
    expectValid(ms);
    const worker = find(ms, "StatefulSet", "airflow-worker");
    expect(podSpec(worker).volumes?.find((v) => v.name === "logs")?.persistentVolumeClaim?.claimName).toBe(
      "airflow-logs",
    );
    // No DAGs claim: the worker keeps its own git-sync checkout, as the DAG processor does.
    expect(podSpec(worker).containers.map((x) => x.name)).toEqual(["worker", "git-sync"]);
    expect(envOf(container(worker)).get("UPDRAFT__CORE__DAGS_FOLDER")?.value).toBe(
      "/opt/updraft/dags/repo/dags",
    );
    expect(container(worker).envFrom).toEqual([{ secretRef: { name: "airflow-connections" } }]);
    // Tutorial values give the task Pods resources; under the QueueExecutor the workers get them.
    expect(container(worker).resources).toEqual({
      requests: { cpu: "250m", memory: "512Mi" },
      limits: { memory: "1Gi" },
    });
  });

  it("the lab's DAGs claim is mounted in the workers", () => {
    const worker = find(
      renderWith({ executor: "QueueExecutor" }, [LAB_VALUES]),
      "StatefulSet",
      "airflow-worker",
    );
    expect(podSpec(worker).volumes?.find((v) => v.name === "dags")?.persistentVolumeClaim?.claimName).toBe(
      "airflow-dags",
    );
    expect(podSpec(worker).containers.map((x) => x.name)).toEqual(["worker"]);
  });
});

describe("several executors at once", () => {
  it("LocalExecutor,QueueExecutor: the scheduler runs tasks and reads DAGs, workers take queued ones", () => {
    const ms = renderWith({ executor: "LocalExecutor,QueueExecutor" });
    expectValid(ms);
    const scheduler = find(ms, "Deployment", "airflow-scheduler");
    expect(envOf(container(scheduler)).get("UPDRAFT__CORE__EXECUTOR")?.value).toBe(
      "LocalExecutor,QueueExecutor",
    );
    expect(container(scheduler).volumeMounts?.map((v) => v.name)).toContain("dags");
    expect(brokerEnv(container(scheduler))).toBeDefined();
    find(ms, "StatefulSet", "airflow-worker");
    expect(ms.some((m) => m.metadata.name === "airflow-pod-template")).toBe(false);
  });

  it("QueueExecutor,KubernetesExecutor: workers, Redis and the pod template side by side", () => {
    const ms = renderWith({ executor: "QueueExecutor, KubernetesExecutor" });
    expectValid(ms);
    const scheduler = container(find(ms, "Deployment", "airflow-scheduler"));
    const env = envOf(scheduler);
    expect(env.get("UPDRAFT__CORE__EXECUTOR")?.value).toBe("QueueExecutor, KubernetesExecutor");
    expect(env.get("UPDRAFT__KUBERNETES_EXECUTOR__POD_TEMPLATE_FILE")?.value).toBeDefined();
    expect(scheduler.volumeMounts?.map((v) => v.name)).toContain("pod-template");
    find(ms, "ConfigMap", "airflow-pod-template");
    find(ms, "StatefulSet", "airflow-worker");
    find(ms, "StatefulSet", "airflow-redis");
  });
});

describe("an external Redis", () => {
  it("from your Secret: no Redis objects, every component reads your Secret", () => {
    const ms = renderWith({
      executor: "QueueExecutor",
      redis: { enabled: false },
      data: { brokerUrlSecretName: "my-redis" },
    });
    expectValid(ms);
    expect(queueObjects(ms).sort()).toEqual(["Service/airflow-worker", "StatefulSet/airflow-worker"]);
    for (const name of ["airflow-scheduler", "airflow-api-server"]) {
      expect(brokerEnv(container(find(ms, "Deployment", name)))?.valueFrom?.secretKeyRef).toEqual({
        name: "my-redis",
        key: "connection",
      });
    }
    expect(brokerEnv(container(find(ms, "StatefulSet", "airflow-worker")))?.valueFrom?.secretKeyRef).toEqual({
      name: "my-redis",
      key: "connection",
    });
  });

  it("from data.brokerUrl: copied into a Secret as given (rediss://, password), never into a Pod", () => {
    const url = "rediss://:p@ss%20w0rd-secret@redis.example.com:6380/2";
    const ms = renderWith({ executor: "QueueExecutor", redis: { enabled: false }, data: { brokerUrl: url } });
    expectValid(ms);
    expect(decoded(find(ms, "Secret", "airflow-broker-url"))["connection"]).toBe(url);
    expect(ms.some((m) => m.metadata.name === "airflow-redis")).toBe(false);
    for (const m of ms.filter((x) => x.kind !== "Secret")) {
      expect(JSON.stringify(m).includes("w0rd-secret"), `${m.kind}/${m.metadata.name}`).toBe(false);
    }
  });
});

describe("TLS to an external Redis", () => {
  const tls = {
    executor: "QueueExecutor",
    redis: { enabled: false },
    data: { brokerUrl: "rediss://:pw-secret@redis.example.com:6380/0", brokerTlsSecretName: "redis-tls" },
  };

  it("mounts your CA (and client certificate) where Redis is reached and points queue.tls_* at it", () => {
    const ms = renderWith({ ...tls, data: { ...tls.data, brokerTlsClientCert: true } });
    expectValid(ms);
    const reaching = [
      "Deployment/airflow-scheduler",
      "Deployment/airflow-api-server",
      "StatefulSet/airflow-worker",
    ];
    for (const m of workloads(ms).filter((x) => x.metadata.labels?.["component"] !== "statsd")) {
      const id = `${m.kind}/${m.metadata.name}`;
      const c = container(m);
      const env = envOf(c);
      const mounted = c.volumeMounts?.find((v) => v.name === "broker-tls");
      if (!reaching.includes(id)) {
        expect(mounted, id).toBeUndefined();
        expect(env.has("UPDRAFT__QUEUE__TLS_CA_FILE"), id).toBe(false);
        continue;
      }
      expect(mounted, id).toEqual({
        name: "broker-tls",
        mountPath: "/opt/updraft/secrets/broker-tls",
        readOnly: true,
      });
      expect(
        podSpec(m).volumes?.find((v) => v.name === "broker-tls"),
        id,
      ).toEqual({
        name: "broker-tls",
        secret: { secretName: "redis-tls" },
      });
      expect(
        ["CA", "CERT", "KEY"].map((k) => env.get(`UPDRAFT__QUEUE__TLS_${k}_FILE`)?.value),
        id,
      ).toEqual([
        "/opt/updraft/secrets/broker-tls/ca.crt",
        "/opt/updraft/secrets/broker-tls/tls.crt",
        "/opt/updraft/secrets/broker-tls/tls.key",
      ]);
    }
  });

  it("sets only the CA without a client certificate, and is refused with the chart's plain Redis", () => {
    const env = envOf(container(find(renderWith(tls), "StatefulSet", "airflow-worker")));
    expect(env.get("UPDRAFT__QUEUE__TLS_CA_FILE")?.value).toBe("/opt/updraft/secrets/broker-tls/ca.crt");
    expect(env.has("UPDRAFT__QUEUE__TLS_CERT_FILE")).toBe(false);
    expect(failsWith({ executor: "QueueExecutor", data: { brokerTlsSecretName: "redis-tls" } })).toContain(
      "data.brokerTlsSecretName is for an external rediss:// Redis",
    );
  });
});

describe("KEDA", () => {
  const values = {
    executor: "QueueExecutor",
    workers: { queues: ["default", "gpu"], concurrency: 4, keda: { enabled: true, maxReplicaCount: 20 } },
  };
  let ms: Manifest[];
  beforeAll(() => {
    ms = renderWith(values);
  });

  it("renders a ScaledObject on the worker StatefulSet and leaves it the replica count", () => {
    expectValid(ms);
    const scaled = find(ms, "ScaledObject", "airflow-worker");
    expect(scaled.apiVersion).toBe("keda.sh/v1alpha1");
    // The whole spec: a field the CRD does not define would show here.
    expect(scaled["spec"]).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "StatefulSet", name: "airflow-worker" },
      pollingInterval: 5,
      cooldownPeriod: 30,
      minReplicaCount: 0,
      maxReplicaCount: 20,
      triggers: [
        {
          type: "postgresql",
          metadata: {
            targetQueryValue: "1",
            query:
              "SELECT ceil(count(*)::decimal / 4) FROM task_instance WHERE state IN ('queued', 'running') AND queue IN ('default', 'gpu') AND (executor IS NULL OR executor = 'QueueExecutor')",
          },
          authenticationRef: { name: "airflow-worker-keda" },
        },
      ],
    });
    expect(find(ms, "StatefulSet", "airflow-worker")["spec"]).not.toHaveProperty("replicas");
  });

  it("authenticates KEDA from the metadata Secret; the workers still get no database URL", () => {
    expect(find(ms, "TriggerAuthentication", "airflow-worker-keda")["spec"]).toEqual({
      secretTargetRef: [{ parameter: "connection", name: "airflow-metadata", key: "connection" }],
    });
    // KEDA's operator runs in its own namespace: the URL names the database with its namespace.
    expect(decoded(find(ms, "Secret", "airflow-metadata"))["connection"]).toContain(
      "@airflow-postgresql.airflow.svc:5432/",
    );
    expect(
      envOf(container(find(ms, "StatefulSet", "airflow-worker"))).has("UPDRAFT__DATABASE__SQL_ALCHEMY_CONN"),
    ).toBe(false);
    const own = renderWith({
      ...values,
      postgresql: { enabled: false },
      data: { metadataSecretName: "my-db" },
    });
    expect(find(own, "TriggerAuthentication", "airflow-worker-keda")["spec"]).toEqual({
      secretTargetRef: [{ parameter: "connection", name: "my-db", key: "connection" }],
    });
  });

  it("counts only the QueueExecutor's tries when it is not the default executor", () => {
    const mixed = renderWith({ ...values, executor: "KubernetesExecutor,QueueExecutor" });
    const query = (
      find(mixed, "ScaledObject", "airflow-worker")["spec"] as { triggers: { metadata: { query: string } }[] }
    ).triggers[0]!.metadata.query;
    expect(query.endsWith("AND executor = 'QueueExecutor'")).toBe(true);
  });

  withTestDatabases(
    "its query on Updraft's schema",
    (getDb) => {
      /** Task instances as (state, queue, executor); returns what KEDA's query would read. */
      async function workersWanted(query: string, tis: [string, string, string | null][]): Promise<number> {
        const { db } = getDb();
        const run = `run_${Math.random().toString(36).slice(2)}`;
        await sql`delete from task_instance`.execute(db);
        await sql`insert into dag_run (dag_id, run_id, run_type) values ('keda_dag', ${run}, 'manual')`.execute(
          db,
        );
        for (const [i, [state, queue, executor]] of tis.entries()) {
          await sql`insert into task_instance (dag_id, run_id, task_id, state, queue, executor)
            values ('keda_dag', ${run}, ${`t${i}`}, ${state}, ${queue}, ${executor})`.execute(db);
        }
        const r = await sql.raw<Record<string, unknown>>(query).execute(db);
        return Number(Object.values(r.rows[0]!)[0]);
      }
      const queryOf = (executor: string) =>
        (
          find(renderWith({ ...values, executor }), "ScaledObject", "airflow-worker")["spec"] as {
            triggers: { metadata: { query: string } }[];
          }
        ).triggers[0]!.metadata.query;

      it("asks for ceil(queued + running on these queues / concurrency) workers", async () => {
        const query = queryOf("QueueExecutor");
        expect(await workersWanted(query, [])).toBe(0);
        const five: [string, string, string | null][] = [
          ["queued", "default", null],
          ["queued", "gpu", null],
          ["running", "default", "QueueExecutor"],
          ["running", "gpu", null],
          ["queued", "default", null],
        ];
        const ignored: [string, string, string | null][] = [
          ["scheduled", "default", null], // not handed to the executor yet
          ["success", "default", null],
          ["failed", "gpu", null],
          ["queued", "other", null], // a queue these workers do not serve
          ["running", "default", "KubernetesExecutor"], // another executor's try
        ];
        expect(await workersWanted(query, [...five, ...ignored])).toBe(2); // ceil(5 / 4)
        expect(await workersWanted(query, five.slice(0, 4))).toBe(1);
      });

      it("counts tries without an executor option only when the QueueExecutor is the default", async () => {
        const tis: [string, string, string | null][] = [
          ["queued", "default", null],
          ["queued", "default", "QueueExecutor"],
        ];
        expect(await workersWanted(queryOf("QueueExecutor,KubernetesExecutor"), tis)).toBe(1);
        expect(await workersWanted(queryOf("KubernetesExecutor,QueueExecutor"), [tis[0]!])).toBe(0);
      });
    },
    { dialects: ["postgres"] },
  );
});

describe("helm lint", () => {
  it.each([
    ["the chart's Redis", { executor: "QueueExecutor" }],
    [
      "an external Redis Secret",
      { executor: "QueueExecutor", redis: { enabled: false }, data: { brokerUrlSecretName: "my-redis" } },
    ],
    ["KEDA", { executor: "LocalExecutor,QueueExecutor", workers: { keda: { enabled: true } } }],
  ])("passes with the QueueExecutor and %s", (_what, values) => {
    const r = helm(["lint", CHART, "--strict", "--values", valuesFile(values)]);
    expect(r.stdout + r.stderr).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(r.status).toBe(0);
  });
});

describe("worker values that are wrong fail with a message that names them", () => {
  const q = { executor: "QueueExecutor" };

  it("a grace period not longer than the drain timeout", () => {
    expect(failsWith({ ...q, workers: { drainTimeout: 600, terminationGracePeriodSeconds: 600 } })).toContain(
      "workers.terminationGracePeriodSeconds=600 must be longer than workers.drainTimeout=600",
    );
  });

  it("KEDA without the QueueExecutor", () => {
    expect(failsWith({ workers: { keda: { enabled: true } } })).toContain(
      "workers.keda.enabled scales the QueueExecutor's workers, but executor=KubernetesExecutor has none",
    );
  });

  it("KEDA's minimum above its maximum", () => {
    expect(
      failsWith({ ...q, workers: { keda: { enabled: true, minReplicaCount: 5, maxReplicaCount: 2 } } }),
    ).toContain("minReplicaCount=5 is above workers.keda.maxReplicaCount=2");
  });

  it("no Redis at all, or two", () => {
    expect(failsWith({ ...q, redis: { enabled: false } })).toContain(
      "give the external Redis as data.brokerUrlSecretName",
    );
    expect(failsWith({ ...q, data: { brokerUrl: "redis://r:6379/0" } })).toContain(
      "set redis.enabled=false to use it",
    );
    expect(failsWith({ ...q, redis: { passwordSecretName: "mine" } })).toContain(
      "also set data.brokerUrlSecretName",
    );
  });

  it("a broker URL that is not redis:// or rediss://, and a queue name Redis keys cannot hold", () => {
    expect(failsWith({ ...q, redis: { enabled: false }, data: { brokerUrl: "amqp://mq:5672" } })).toMatch(
      /brokerUrl.*does not match pattern/,
    );
    expect(failsWith({ ...q, workers: { queues: ["gpu:fast"] } })).toMatch(
      /queues\/0.*does not match pattern/,
    );
  });

  it("worker settings or the broker URL given in config, without echoing the URL", () => {
    expect(failsWith({ ...q, config: { worker: { concurrency: 8 } } })).toContain(
      "config.worker.concurrency: set workers.concurrency instead",
    );
    const err = failsWith({ ...q, config: { queue: { broker_url: "redis://:hunter2-secret@r:6379/0" } } });
    expect(err).toContain("config.queue.broker_url: the broker URL holds Redis's password");
    expect(err).not.toContain("hunter2-secret");
  });
});
