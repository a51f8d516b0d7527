// The Helm chart in chart/, rendered by the real helm with the default values, the tutorial's
// production values (airflow-values.yaml) and its lab values (airflow-lab-values.yaml): every
// manifest valid against the Kubernetes schema, and the objects the tutorial relies on as it
// expects them.
import { join } from "node:path";
import { parse } from "yaml";
import { beforeAll, describe, expect, it } from "vitest";
import { FIXTURES } from "../helpers.js";
import { CHART, LAB_VALUES, PRODUCTION_VALUES, find, helm, notes, render, type Manifest } from "./render.js";
import { container, decoded, envOf, podSpec, type PodSpec } from "./manifests.js";
import { schemaProblems } from "./validate.js";

const MONITORING_VALUES = join(FIXTURES, "chart", "airflow-monitoring-values.yaml");

const replicas = (m: Manifest): unknown => (m["spec"] as { replicas?: unknown }).replicas;
/** The KubernetesExecutor's pod template, parsed out of its ConfigMap. */
const podTemplate = (ms: Manifest[]): Manifest & { spec: PodSpec } =>
  parse(
    (find(ms, "ConfigMap", "airflow-pod-template")["data"] as Record<string, string>)[
      "pod_template_file.yaml"
    ]!,
  ) as Manifest & { spec: PodSpec };

const WORKLOADS = new Set(["Deployment", "StatefulSet", "Job", "ConfigMap"]);

function expectValid(ms: Manifest[]): void {
  const problems = ms.flatMap(schemaProblems);
  if (ms.some((m) => m.metadata.name === "airflow-pod-template")) {
    problems.push(...schemaProblems(podTemplate(ms)).map((p) => `pod template: ${p}`));
  }
  expect(problems).toEqual([]);
}

/** Every Secret's values stay in Secrets: no workload or ConfigMap holds one inline. */
function expectSecretsNotInlined(ms: Manifest[], alsoSecret: string[]): void {
  const values = ms.filter((m) => m.kind === "Secret").flatMap((s) => Object.values(decoded(s)));
  const secrets = [...values, ...alsoSecret].filter((v) => v.length >= 8);
  expect(secrets.length).toBeGreaterThan(0);
  for (const m of ms.filter((x) => WORKLOADS.has(x.kind))) {
    const text = JSON.stringify(m);
    for (const s of secrets)
      expect(text.includes(s), `${m.kind}/${m.metadata.name} holds a secret`).toBe(false);
  }
  // And every Updraft variable that carries a secret comes by secretKeyRef.
  for (const m of ms.filter((x) => x.kind === "Deployment" || x.kind === "Job" || x.kind === "StatefulSet")) {
    for (const c of podSpec(m).containers) {
      for (const e of c.env ?? []) {
        if (/PASSWORD|SECRET_KEY|FERNET|SQL_ALCHEMY_CONN/.test(e.name)) {
          expect(e.value, `${m.metadata.name}/${c.name} ${e.name}`).toBeUndefined();
          expect(e.valueFrom?.secretKeyRef, `${m.metadata.name}/${c.name} ${e.name}`).toBeDefined();
        }
      }
    }
  }
}

describe("helm lint", () => {
  it.each([
    ["default values", []],
    ["the tutorial's production values", [PRODUCTION_VALUES]],
    ["the tutorial's lab values", [LAB_VALUES]],
  ])("passes with %s", (_what, files) => {
    const r = helm(["lint", CHART, "--strict", ...files.flatMap((f) => ["--values", f])]);
    expect(r.stdout + r.stderr).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(r.status).toBe(0);
  });
});

describe("the default values", () => {
  let ms: Manifest[];
  beforeAll(() => {
    ms = render();
  });

  it("render manifests valid against the Kubernetes schema", () => {
    expect(ms.length).toBeGreaterThan(15);
    expectValid(ms);
  });

  it("run the KubernetesExecutor from a pod template whose container is `base`", () => {
    const scheduler = find(ms, "Deployment", "airflow-scheduler");
    const c = container(scheduler);
    expect(c.args).toEqual(["scheduler"]);
    const env = envOf(c);
    expect(env.get("UPDRAFT__CORE__EXECUTOR")?.value).toBe("KubernetesExecutor");
    expect(env.get("UPDRAFT__KUBERNETES_EXECUTOR__IN_CLUSTER")?.value).toBe("true");
    expect(env.get("UPDRAFT__KUBERNETES_EXECUTOR__NAMESPACE")?.value).toBe("airflow");
    const path = env.get("UPDRAFT__KUBERNETES_EXECUTOR__POD_TEMPLATE_FILE")?.value;
    const mount = c.volumeMounts?.find((v) => v.name === "pod-template");
    expect(mount?.mountPath).toBe(path);
    expect(mount?.subPath).toBe("pod_template_file.yaml");
    expect(podSpec(scheduler).volumes?.find((v) => v.name === "pod-template")?.configMap?.name).toBe(
      "airflow-pod-template",
    );
    const pod = podTemplate(ms);
    expect(pod.kind).toBe("Pod");
    expect(pod.spec.containers.map((x) => x.name)).toEqual(["base"]);
    // Task Pods reach Updraft through the execution API only: no database URL, no key.
    const workerEnv = envOf(pod.spec.containers[0]!);
    expect(workerEnv.has("UPDRAFT__DATABASE__SQL_ALCHEMY_CONN")).toBe(false);
    expect(workerEnv.has("UPDRAFT__API__SECRET_KEY")).toBe(false);
    expect(workerEnv.get("UPDRAFT__CORE__EXECUTION_API_SERVER_URL")?.value).toBe(
      "http://airflow-api-server.airflow.svc:8080/execution/",
    );
  });

  it("probe the API server on /health at the port it listens on", () => {
    const api = find(ms, "Deployment", "airflow-api-server");
    const c = container(api);
    expect(c.args).toEqual(["api-server", "--host", "0.0.0.0", "--port", "8080"]);
    expect(c.ports).toEqual([{ name: "api", containerPort: 8080, protocol: "TCP" }]);
    expect(c.livenessProbe?.httpGet).toEqual({ path: "/health", port: "api" });
    expect(c.readinessProbe?.httpGet).toEqual({ path: "/health", port: "api" });
    const svc = find(ms, "Service", "airflow-api-server");
    expect(svc["spec"]).toMatchObject({ ports: [{ port: 8080, targetPort: "api" }] });
  });

  it("let the scheduler and task Pods launch Pods and SparkApplications, and only the scheduler read Secrets", () => {
    const launcher = find(ms, "Role", "airflow-pod-launcher")["rules"] as {
      apiGroups: string[];
      resources: string[];
      verbs: string[];
    }[];
    const rule = (res: string) => launcher.find((r) => r.resources.includes(res));
    expect(rule("pods")?.verbs).toEqual(["create", "get", "list", "watch", "patch", "delete"]);
    expect(rule("pods/log")?.verbs).toContain("get");
    expect(rule("events")?.verbs).toEqual(expect.arrayContaining(["get", "list"]));
    expect(rule("sparkapplications")?.apiGroups).toEqual(["sparkoperator.k8s.io"]);
    expect(rule("sparkapplications")?.verbs).toEqual(
      expect.arrayContaining(["create", "get", "list", "watch", "delete"]),
    );
    expect(launcher.some((r) => r.resources.includes("secrets"))).toBe(false);
    const secrets = find(ms, "Role", "airflow-task-secrets")["rules"] as {
      resources: string[];
      verbs: string[];
    }[];
    expect(secrets).toEqual([
      {
        apiGroups: [""],
        resources: ["secrets"],
        verbs: ["create", "get", "list", "watch", "patch", "delete"],
      },
    ]);

    const schedulerSa = podSpec(find(ms, "Deployment", "airflow-scheduler")).serviceAccountName;
    const workerSa = podTemplate(ms).spec.serviceAccountName;
    const subjects = (name: string) =>
      (find(ms, "RoleBinding", name)["subjects"] as { name: string }[]).map((s) => s.name);
    expect(subjects("airflow-pod-launcher")).toEqual([schedulerSa, workerSa]);
    expect(subjects("airflow-task-secrets")).toEqual([schedulerSa]);
    expect(schedulerSa).not.toBe(workerSa);
    find(ms, "ServiceAccount", schedulerSa!);
    find(ms, "ServiceAccount", workerSa!);
  });

  it("migrate the database in a hook Job before creating the default user", () => {
    const migrate = find(ms, "Job", "airflow-migrate-database");
    expect(container(migrate).args).toEqual(["db", "migrate"]);
    expect(migrate.metadata.annotations).toMatchObject({
      "helm.sh/hook": "post-install,post-upgrade",
      "helm.sh/hook-weight": "1",
    });
    const user = find(ms, "Job", "airflow-create-user");
    expect(Number(user.metadata.annotations?.["helm.sh/hook-weight"])).toBeGreaterThan(1);
    const password = envOf(container(user)).get("DEFAULT_USER_PASSWORD");
    expect(password?.valueFrom?.secretKeyRef).toEqual({ name: "airflow-default-user", key: "password" });
    expect(container(user).args?.[0]).toContain('--password "$DEFAULT_USER_PASSWORD"');
  });

  it("keep generated keys and passwords in Secrets, referenced and never inlined", () => {
    expectSecretsNotInlined(ms, []);
    // The URL points at the chart's PostgreSQL, with the generated password.
    const pg = decoded(find(ms, "Secret", "airflow-postgresql"))["postgres-password"]!;
    expect(pg).toMatch(/^[A-Za-z0-9]{32}$/);
    expect(decoded(find(ms, "Secret", "airflow-metadata"))["connection"]).toBe(
      `postgresql://postgres:${pg}@airflow-postgresql.airflow.svc:5432/updraft?sslmode=disable`,
    );
    // core.fernet_key must decode to 32 bytes.
    const fernet = decoded(find(ms, "Secret", "airflow-fernet-key"))["fernet-key"]!;
    expect(Buffer.from(fernet, "base64url")).toHaveLength(32);
  });

  it("render the triggerer by default, running `updraft triggerer`", () => {
    const c = container(find(ms, "Deployment", "airflow-triggerer"));
    expect(c.args).toEqual(["triggerer"]);
  });
});

describe("the tutorial's production values (airflow-values.yaml)", () => {
  let ms: Manifest[];
  beforeAll(() => {
    ms = render([PRODUCTION_VALUES]);
  });

  it("render manifests valid against the Kubernetes schema", () => {
    expectValid(ms);
  });

  it("run two API servers and two schedulers with the tutorial's resources", () => {
    const api = find(ms, "Deployment", "airflow-api-server");
    expect(replicas(api)).toBe(2);
    expect(container(api).resources).toEqual({
      requests: { cpu: "500m", memory: "1Gi" },
      limits: { memory: "2Gi" },
    });
    expect(find(ms, "Service", "airflow-api-server")["spec"]).toMatchObject({ type: "ClusterIP" });
    const scheduler = find(ms, "Deployment", "airflow-scheduler");
    expect(replicas(scheduler)).toBe(2);
    expect(container(scheduler).resources).toEqual({
      requests: { cpu: "500m", memory: "1Gi" },
      limits: { memory: "2Gi" },
    });
    expect(envOf(container(scheduler)).get("UPDRAFT__CORE__EXECUTOR")?.value).toBe("KubernetesExecutor");
  });

  it("give task Pods the workers' resources in the pod template", () => {
    expect(podTemplate(ms).spec.containers[0]!.resources).toEqual({
      requests: { cpu: "250m", memory: "512Mi" },
      limits: { memory: "1Gi" },
    });
  });

  it("sync DAGs with git-sync into the DAG processor and, once, into each task Pod", () => {
    const processor = find(ms, "Deployment", "airflow-dag-processor");
    const sync = container(processor, "git-sync");
    const env = envOf(sync);
    expect(env.get("GITSYNC_REPO")?.value).toBe("https://github.com/your-org/airflow-dags.git");
    expect(env.get("GITSYNC_REF")?.value).toBe("main");
    expect(env.get("GITSYNC_PERIOD")?.value).toBe("60s");
    expect(env.get("GITSYNC_ONE_TIME")?.value).toBe("false");
    expect(sync.volumeMounts).toEqual([{ name: "dags", mountPath: "/opt/updraft/dags" }]);
    expect(envOf(container(processor, "dag-processor")).get("UPDRAFT__CORE__DAGS_FOLDER")?.value).toBe(
      "/opt/updraft/dags/repo/dags",
    );
    const init = podTemplate(ms).spec.initContainers ?? [];
    expect(init.map((c) => c.name)).toEqual(["git-sync-init"]);
    expect(envOf(init[0]!).get("GITSYNC_ONE_TIME")?.value).toBe("true");
  });

  it("give the triggerer the DAGs (for userTrigger modules) as the DAG processor gets them", () => {
    const processor = find(ms, "Deployment", "airflow-dag-processor");
    const triggerer = find(ms, "Deployment", "airflow-triggerer");
    const folder = (m: Manifest, name: string) =>
      envOf(container(m, name)).get("UPDRAFT__CORE__DAGS_FOLDER")?.value;
    expect(folder(triggerer, "triggerer")).toBe(folder(processor, "dag-processor"));
    expect(container(triggerer, "triggerer").volumeMounts).toContainEqual({
      name: "dags",
      mountPath: "/opt/updraft/dags",
      readOnly: true,
    });
    // Without a DAGs claim each reader syncs its own copy.
    const sync = container(triggerer, "git-sync");
    expect(envOf(sync).get("GITSYNC_REPO")?.value).toBe("https://github.com/your-org/airflow-dags.git");
    expect(envOf(sync).get("GITSYNC_ONE_TIME")?.value).toBe("false");
    expect(sync.volumeMounts).toEqual([{ name: "dags", mountPath: "/opt/updraft/dags" }]);
  });

  it("run PostgreSQL with the tutorial's database and volume, reached through PgBouncer", () => {
    const pg = find(ms, "StatefulSet", "airflow-postgresql");
    const env = envOf(container(pg));
    expect(env.get("POSTGRES_DB")?.value).toBe("airflow");
    expect(env.get("POSTGRES_PASSWORD")?.valueFrom?.secretKeyRef).toEqual({
      name: "airflow-postgresql",
      key: "postgres-password",
    });
    expect(pg["spec"]).toMatchObject({
      volumeClaimTemplates: [
        { spec: { storageClassName: "standard", resources: { requests: { storage: "10Gi" } } } },
      ],
    });
    expect(decoded(find(ms, "Secret", "airflow-postgresql"))["postgres-password"]).toBe("airflow");
    expect(decoded(find(ms, "Secret", "airflow-metadata"))["connection"]).toBe(
      "postgresql://postgres:airflow@airflow-pgbouncer.airflow.svc:6543/airflow?sslmode=disable",
    );
    find(ms, "Deployment", "airflow-pgbouncer");
    const files = find(ms, "Secret", "airflow-pgbouncer-config")["stringData"] as Record<string, string>;
    const config = files["pgbouncer.ini"]!;
    expect(files["userlist.txt"]).toBe('"postgres" "airflow"\n');
    expect(config).toContain("max_client_conn = 100");
    expect(config).toContain("default_pool_size = 10");
    expect(config).toContain("airflow = host=airflow-postgresql.airflow.svc port=5432 dbname=airflow");
    expect(config).toContain("pool_mode = session");
  });

  it("keep logs on a shared claim, and pass env and extraEnvFrom to every Updraft container", () => {
    expect(find(ms, "PersistentVolumeClaim", "airflow-logs")["spec"]).toMatchObject({
      storageClassName: "standard",
      resources: { requests: { storage: "10Gi" } },
    });
    const updraft = [
      ...ms.filter((m) => m.kind === "Deployment" && m.metadata.labels?.["component"] !== "pgbouncer"),
      ...ms.filter((m) => m.kind === "Job"),
    ].filter((m) => m.metadata.labels?.["component"] !== "statsd");
    expect(updraft.map((m) => m.metadata.name).sort()).toEqual([
      "airflow-api-server",
      "airflow-create-user",
      "airflow-dag-processor",
      "airflow-migrate-database",
      "airflow-scheduler",
      "airflow-triggerer",
    ]);
    for (const c of [...updraft.map((m) => container(m)), podTemplate(ms).spec.containers[0]!]) {
      expect(c.envFrom, c.name).toEqual([{ secretRef: { name: "airflow-connections" } }]);
      expect(envOf(c).get("AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION")?.value, c.name).toBe("True");
      expect(c.volumeMounts?.find((v) => v.name === "logs")?.mountPath ?? "/opt/updraft/logs").toBe(
        "/opt/updraft/logs",
      );
    }
  });

  it("store the tutorial's inline password in a Secret and never inline it", () => {
    expect(decoded(find(ms, "Secret", "airflow-default-user"))["password"]).toBe("changeme");
    expectSecretsNotInlined(ms, ["changeme"]);
  });

  it("render the triggerer with the tutorial's resources", () => {
    const t = find(ms, "Deployment", "airflow-triggerer");
    expect(replicas(t)).toBe(1);
    expect(container(t).resources).toBeDefined();
    expect(container(t).args).toEqual(["triggerer"]);
  });
});

describe("the tutorial's lab values (airflow-lab-values.yaml)", () => {
  let ms: Manifest[];
  beforeAll(() => {
    ms = render([LAB_VALUES]);
  });

  it("render manifests valid against the Kubernetes schema", () => {
    expectValid(ms);
  });

  it("render config as UPDRAFT__SECTION__KEY and drop load_examples, which Updraft has not", () => {
    for (const name of ["airflow-scheduler", "airflow-api-server", "airflow-dag-processor"]) {
      const env = envOf(container(find(ms, "Deployment", name)));
      expect(env.get("UPDRAFT__CORE__DAGS_ARE_PAUSED_AT_CREATION")?.value, name).toBe("False");
      expect(env.get("UPDRAFT__KUBERNETES_EXECUTOR__DELETE_WORKER_PODS")?.value, name).toBe("True");
      expect(env.get("UPDRAFT__KUBERNETES_EXECUTOR__DELETE_WORKER_PODS_ON_FAILURE")?.value, name).toBe(
        "False",
      );
      expect(env.has("UPDRAFT__CORE__LOAD_EXAMPLES"), name).toBe(false);
    }
  });

  it("run one of each with the lab's resources, without PgBouncer, triggerer or a logs claim", () => {
    expect(replicas(find(ms, "Deployment", "airflow-api-server"))).toBe(1);
    expect(replicas(find(ms, "Deployment", "airflow-scheduler"))).toBe(1);
    expect(container(find(ms, "Deployment", "airflow-api-server")).resources).toEqual({
      requests: { cpu: "250m", memory: "512Mi" },
      limits: { memory: "1Gi" },
    });
    const names = ms.map((m) => m.metadata.name);
    expect(names).not.toContain("airflow-pgbouncer");
    expect(names).not.toContain("airflow-triggerer");
    expect(names).not.toContain("airflow-logs");
    expect(decoded(find(ms, "Secret", "airflow-metadata"))["connection"]).toBe(
      "postgresql://postgres:airflow@airflow-postgresql.airflow.svc:5432/updraft?sslmode=disable",
    );
    expect(find(ms, "StatefulSet", "airflow-postgresql")["spec"]).toMatchObject({
      volumeClaimTemplates: [{ spec: { resources: { requests: { storage: "2Gi" } } } }],
    });
  });

  it("put DAGs on the claim the tutorial's dag-loader Pod writes to (airflow-dags)", () => {
    expect(find(ms, "PersistentVolumeClaim", "airflow-dags")["spec"]).toMatchObject({
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "1Gi" } },
    });
    const claimOf = (spec: PodSpec) =>
      spec.volumes?.find((v) => v.name === "dags")?.persistentVolumeClaim?.claimName;
    expect(claimOf(podSpec(find(ms, "Deployment", "airflow-dag-processor")))).toBe("airflow-dags");
    expect(claimOf(podTemplate(ms).spec)).toBe("airflow-dags");
    const dagsMount = podTemplate(ms).spec.containers[0]!.volumeMounts?.find((v) => v.name === "dags");
    expect(dagsMount?.mountPath).toBe("/opt/updraft/dags");
  });

  it("let the API server read the worker Pods' logs (no logs claim: the log view reads the Pod)", () => {
    const api = find(ms, "Deployment", "airflow-api-server");
    const env = envOf(container(api));
    expect(env.get("UPDRAFT__CORE__EXECUTOR")?.value).toBe("KubernetesExecutor");
    expect(env.get("UPDRAFT__KUBERNETES_EXECUTOR__IN_CLUSTER")?.value).toBe("true");
    expect(env.get("UPDRAFT__KUBERNETES_EXECUTOR__NAMESPACE")?.value).toBeDefined();
    const sa = podSpec(api).serviceAccountName;
    // Every verb the API server's service account has on a resource, through its RoleBindings.
    const verbs = (resource: string): string[] =>
      ms
        .filter(
          (m) =>
            m.kind === "RoleBinding" &&
            (m["subjects"] as { kind: string; name: string }[]).some(
              (s) => s.kind === "ServiceAccount" && s.name === sa,
            ),
        )
        .map((b) => find(ms, "Role", (b["roleRef"] as { name: string }).name))
        .flatMap((r) => r["rules"] as { apiGroups: string[]; resources: string[]; verbs: string[] }[])
        .filter((rule) => rule.apiGroups.includes("") && rule.resources.includes(resource))
        .flatMap((rule) => rule.verbs);
    expect(verbs("pods")).toEqual(expect.arrayContaining(["get", "list"]));
    expect(verbs("pods/log")).toContain("get");
  });

  it("create the lab's admin from a Secret holding admin123, never inlined", () => {
    expect(decoded(find(ms, "Secret", "airflow-default-user"))["password"]).toBe("admin123");
    expectSecretsNotInlined(ms, ["admin123"]);
  });
});

describe("other values", () => {
  it("the tutorial's monitoring values: statsd settings as env, its exporter through extraObjects", () => {
    const ms = render([LAB_VALUES, MONITORING_VALUES], ["statsd.enabled=false"]);
    expectValid(ms);
    const env = envOf(container(find(ms, "Deployment", "airflow-scheduler")));
    expect(env.get("UPDRAFT__METRICS__STATSD_ON")?.value).toBe("true");
    expect(env.get("UPDRAFT__METRICS__STATSD_HOST")?.value).toBe("statsd-exporter");
    expect(env.get("UPDRAFT__METRICS__STATSD_PORT")?.value).toBe("9125");
    expect(container(find(ms, "Deployment", "statsd-exporter")).ports).toHaveLength(2);
  });

  it.each(["KubernetesExecutor", "LocalExecutor"])("every switch on, %s: valid manifests", (executor) => {
    const ms = render(
      [PRODUCTION_VALUES],
      [
        `executor=${executor}`,
        "dags.persistence.enabled=true",
        "triggerer.enabled=true",
        "monitoring.dashboard.enabled=true",
        "webserver.defaultUser.password=a-real-password",
      ],
    );
    expectValid(ms);
    // With a DAGs claim, one git-sync (the DAG processor's) fills it; nobody else syncs.
    const syncing = ms
      .filter((m) => m.kind === "Deployment" && podSpec(m).containers.some((c) => c.name === "git-sync"))
      .map((m) => m.metadata.name);
    expect(syncing).toEqual(["airflow-dag-processor"]);
    // The triggerer reads the claim the DAG processor's git-sync fills.
    const triggerer = find(ms, "Deployment", "airflow-triggerer");
    expect(container(triggerer, "triggerer").volumeMounts?.map((v) => v.name)).toContain("dags");
    expect(podSpec(triggerer).volumes?.find((v) => v.name === "dags")?.persistentVolumeClaim?.claimName).toBe(
      "airflow-dags",
    );
  });

  it("LocalExecutor: no pod template, and the scheduler reads the DAGs itself", () => {
    const ms = render([LAB_VALUES], ["executor=LocalExecutor"]);
    expectValid(ms);
    expect(ms.some((m) => m.metadata.name === "airflow-pod-template")).toBe(false);
    const scheduler = find(ms, "Deployment", "airflow-scheduler");
    expect(envOf(container(scheduler)).get("UPDRAFT__CORE__EXECUTOR")?.value).toBe("LocalExecutor");
    expect(container(scheduler).volumeMounts?.map((v) => v.name)).toContain("dags");
    expect(podSpec(scheduler).volumes?.find((v) => v.name === "dags")?.persistentVolumeClaim?.claimName).toBe(
      "airflow-dags",
    );
  });

  it("an external database from a Secret: no PostgreSQL, the URL by secretKeyRef", () => {
    const ms = render([], ["postgresql.enabled=false", "data.metadataSecretName=my-db"]);
    expect(ms.some((m) => m.kind === "StatefulSet")).toBe(false);
    expect(ms.some((m) => m.metadata.name === "airflow-metadata")).toBe(false);
    const env = envOf(container(find(ms, "Deployment", "airflow-scheduler")));
    expect(env.get("UPDRAFT__DATABASE__SQL_ALCHEMY_CONN")?.valueFrom?.secretKeyRef).toEqual({
      name: "my-db",
      key: "connection",
    });
  });

  it("an external database from its parts: the URL escaped, PgBouncer using its sslmode", () => {
    const password = 'p@ss wo+rd/:"x';
    const ms = render(
      [],
      [
        "postgresql.enabled=false",
        "data.metadataConnection.host=db.example.com",
        "data.metadataConnection.sslmode=require",
        `data.metadataConnection.pass=${password}`,
      ],
    );
    const url = new URL(decoded(find(ms, "Secret", "airflow-metadata"))["connection"]!);
    expect([url.hostname, url.port, url.pathname, url.searchParams.get("sslmode")]).toEqual([
      "db.example.com",
      "5432",
      "/updraft",
      "require",
    ]);
    expect(decodeURIComponent(url.password)).toBe(password);

    const pooled = render(
      [],
      [
        "postgresql.enabled=false",
        "data.metadataConnection.host=db.example.com",
        "data.metadataConnection.sslmode=require",
        `data.metadataConnection.pass=${password}`,
        "pgbouncer.enabled=true",
      ],
    );
    const viaPool = new URL(decoded(find(pooled, "Secret", "airflow-metadata"))["connection"]!);
    expect([viaPool.hostname, viaPool.port, viaPool.searchParams.get("sslmode")]).toEqual([
      "airflow-pgbouncer.airflow.svc",
      "6543",
      "disable",
    ]);
    const files = find(pooled, "Secret", "airflow-pgbouncer-config")["stringData"] as Record<string, string>;
    expect(files["pgbouncer.ini"]).toContain("server_tls_sslmode = require");
    expect(files["pgbouncer.ini"]).toContain("updraft = host=db.example.com port=5432 dbname=updraft");
    expect(files["userlist.txt"]).toBe('"postgres" "p@ss wo+rd/:""x"\n');
    expectSecretsNotInlined(pooled, [password]);
  });

  it("webserver keys override apiServer's, false included", () => {
    const ms = render([], ["webserver.defaultUser.enabled=false", "apiServer.replicas=3"]);
    expect(ms.some((m) => m.metadata.name === "airflow-create-user")).toBe(false);
    expect(replicas(find(ms, "Deployment", "airflow-api-server"))).toBe(3);
  });
});

describe("NOTES.txt", () => {
  it("says what of the tutorial's production values Updraft does not use or refuses", () => {
    const text = notes([PRODUCTION_VALUES]);
    expect(text).toContain("kubectl -n airflow port-forward svc/airflow-api-server 8080:8080");
    expect(text).toContain("get secret airflow-default-user");
    expect(text).toContain('defaultUser.password is "changeme", which Updraft refuses');
    expect(text).toContain("Not used: airflowVersion, defaultAirflowRepository and defaultAirflowTag");
    expect(text).toContain("PgBouncer pools in session mode");
  });

  it("lists the lab's Airflow-only settings it dropped, and warns of nothing else", () => {
    const text = notes([LAB_VALUES]);
    expect(text).toContain("config.core.load_examples");
    expect(text).not.toContain("WARNING");
    expect(text).not.toContain("airflowVersion");
  });
});

describe("values that are wrong fail with a message that names them", () => {
  const fails = (sets: string[]) => {
    const r = helm(["template", "airflow", CHART, ...sets.flatMap((s) => ["--set", s])]);
    expect(r.status).not.toBe(0);
    return r.stderr;
  };

  it("a typo in a top-level key", () => {
    expect(fails(["schedular.replicas=2"])).toContain("additional properties 'schedular' not allowed");
  });

  it("a typo inside a component", () => {
    expect(fails(["scheduler.replica=2"])).toMatch(/scheduler.*additional properties 'replica' not allowed/);
  });

  it("a wrong type", () => {
    expect(fails(["scheduler.replicas=two"])).toMatch(/scheduler\/replicas.*got string, want integer/);
    expect(fails(["dags.gitSync.enabled=yes"])).toMatch(/gitSync\/enabled.*got string, want boolean/);
  });

  it("an executor Updraft does not have, or one named twice", () => {
    expect(fails(["executor=CeleryExecutor"])).toMatch(/executor.*does not match pattern.*QueueExecutor/);
    expect(fails(["executor=LocalExecutor\\,KubernetesExecutor\\,LocalExecutor"])).toContain(
      "names LocalExecutor twice",
    );
  });

  it("an Airflow-only setting that asks for what Updraft does not do", () => {
    expect(fails(["config.core.load_examples=True"])).toContain("Updraft loads no example DAGs");
  });

  it("no database at all", () => {
    expect(fails(["postgresql.enabled=false"])).toContain("needs an external database");
  });
});
