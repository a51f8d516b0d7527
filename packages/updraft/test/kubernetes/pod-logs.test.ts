// The log view without a shared logs volume (issue 10): a try ran in a Pod of the
// KubernetesExecutor against the simulator, its log file is not on the API server (removed here,
// as if it had stayed in the Pod), and the API server's logs route reads the kept Pod's log through
// the Kubernetes API instead; with the Pod deleted it answers 404 with a hint about
// logs.persistence; a failing Kubernetes API gives a 200 answer with a line saying so, never a 500.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { taskLogRelativePath } from "../../src/model/log-path.js";
import { describeWithPostgres } from "../reliability/harness.js";
import { startKubeCluster, type KubeCluster } from "./executor-cluster.js";

const DAG = "pod_log_dag";
// A run id with characters labels cannot hold: the Pod is found by its label-safe run_id.
const RUN = "manual__2026-11-28T10:00:00+00:00";
const SOURCE = `
import { dag, task } from "updraft";
export default dag({ dagId: "${DAG}", schedule: null, startDate: "2026-01-01" }, () => {
  task("talk", () => {
    console.log("hello from inside the worker Pod");
    console.log("second line: é ü 東京");
  })();
});
`;

interface LogJson {
  content: string;
  continuation_token: string | null;
}

await describeWithPostgres("task logs read from the try's Pod", () => {
  let kc: KubeCluster;
  let token = "";
  const url = (): string =>
    `${kc.cluster.apiUrl}/api/v1/dags/${DAG}/dagRuns/${encodeURIComponent(RUN)}/taskInstances/talk/logs/1`;
  const get = (accept = "application/json", query = ""): Promise<Response> =>
    fetch(`${url()}${query}`, { headers: { authorization: `Bearer ${token}`, accept } });

  beforeAll(async () => {
    kc = await startKubeCluster();
    // The API server too runs with the KubernetesExecutor's settings (the chart gives every
    // component the same environment), reaching the simulator through its kubeconfig.
    kc.cluster.env["UPDRAFT__CORE__EXECUTOR"] = "KubernetesExecutor";
    kc.cluster.env["KUBECONFIG"] = kc.sim.kubeconfigPath;
    kc.cluster.env["UPDRAFT__KUBERNETES_EXECUTOR__API_REQUEST_TIMEOUT"] = "5";
    kc.cluster.writeDag(`${DAG}.ts`, SOURCE);
    kc.cluster.reserialize();
    kc.cluster.cli([
      "users",
      "create",
      "--username",
      "viewer",
      "--email",
      "viewer@example.com",
      "--role",
      "Viewer",
      "--use-random-password",
    ]);
    token = kc.cluster
      .cli(["users", "tokens", "create", "--username", "viewer"])
      .stdout.trim()
      .split("\n")
      .at(-1)!;
    await kc.start({ UPDRAFT__KUBERNETES_EXECUTOR__DELETE_WORKER_PODS: "False" });
    kc.cluster.trigger(DAG, RUN);
    expect(await kc.runEnd(DAG, RUN)).toBe("success");
    // The runner wrote the file where the API server looks; without a shared volume it would not be there.
    const ti = { dag_id: DAG, run_id: RUN, task_id: "talk", map_index: -1 };
    const file = join(kc.cluster.home, "logs", taskLogRelativePath(ti, 1));
    expect(kc.log(DAG, RUN, "talk", 1)).toContain("hello from inside the worker Pod");
    rmSync(file);
  }, 180_000);

  afterAll(async () => {
    await kc?.close();
  });

  test("a kept Pod's log, with a first line saying where it came from, as JSON and as text", async () => {
    const [pod] = kc.pods(DAG);
    const name = pod?.metadata.name ?? "";
    expect(name).toMatch(/^pod-log-dag-talk-[0-9a-f]{10}$/);
    const header = `*** Reading from the Pod ${name} (the log file is not on the API server: enable logs.persistence`;

    const json = await get();
    expect(json.status, kc.cluster.logs()).toBe(200);
    const body = (await json.json()) as LogJson;
    expect(body.content.startsWith(header)).toBe(true);
    expect(body.content).toContain("hello from inside the worker Pod");
    expect(body.content).toContain("second line: é ü 東京");
    // The try has ended: nothing more will come.
    expect(body.continuation_token).toBeNull();

    const text = await get("text/plain");
    expect(text.status).toBe(200);
    expect(text.headers.get("content-type")).toContain("text/plain");
    expect(await text.text()).toBe(body.content);

    // Chunks with a continuation token, as for a file: small chunks put back together give the whole log.
    let joined = "";
    let next: string | null = "";
    for (let i = 0; next !== null && i < 100; i++) {
      const part = await get("application/json", `?max_bytes=1024${next === "" ? "" : `&token=${next}`}`);
      const b = (await part.json()) as LogJson;
      joined += b.content;
      next = b.continuation_token;
    }
    expect(joined).toBe(body.content);
    // It was the API server that read it, through the Pod's log endpoint.
    expect(kc.sim.requests().some((r) => r.method === "GET" && r.path.endsWith(`/pods/${name}/log`))).toBe(
      true,
    );
  }, 60_000);

  test("a failing Kubernetes API is a line in the log, never a 500", async () => {
    const [pod] = kc.pods(DAG);
    const name = pod?.metadata.name ?? "";
    kc.sim.inject({ type: "ApiError", method: "GET", path: `/pods/${name}/log`, count: 2, status: 500 });
    const json = await get();
    expect(json.status).toBe(200);
    const body = (await json.json()) as LogJson;
    expect(body.content).toMatch(
      new RegExp(
        `^\\*\\*\\* Could not read the log of the Pod ${name} \\(container "base"\\) in namespace "default": the Kubernetes API answered 500`,
      ),
    );
    expect(body.content).not.toContain("hello from inside the worker Pod");
    const text = await get("text/plain");
    expect(text.status).toBe(200);
    expect(await text.text()).toContain("the Kubernetes API answered 500");

    // The list that finds the Pod fails too: still a 200 with a line.
    kc.sim.inject({
      type: "ApiError",
      method: "GET",
      path: "/namespaces/default/pods\\?.*try_number",
      status: 503,
    });
    const listed = await get();
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as LogJson).content).toMatch(
      /^\*\*\* Could not look for the Pod of try 1 in namespace "default" .*answered 503/,
    );
    // Once the API is well again, so is the log.
    expect(((await (await get()).json()) as LogJson).content).toContain("hello from inside the worker Pod");
  }, 60_000);

  test("with the Pod deleted: 404 as before, with a hint about logs.persistence", async () => {
    const [pod] = kc.pods(DAG);
    const deleted = await kc.kubectl(["delete", "pod", pod?.metadata.name ?? "", "--wait=true"]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(kc.pods(DAG)).toHaveLength(0);
    const res = await get();
    expect(res.status).toBe(404);
    const problem = JSON.stringify(await res.json());
    expect(problem).toContain("No log of try 1 of task");
    expect(problem).toContain("no Pod of the try is left");
    expect(problem).toContain("enable logs.persistence");
  }, 60_000);
});
