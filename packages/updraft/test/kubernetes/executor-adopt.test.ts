// A scheduler with the KubernetesExecutor killed mid-run (SIGKILL, a real child process) and
// restarted: its Pods keep running, the new scheduler adopts them (relabels them to its job id
// and reports their ends), re-queued tries find their Pod (adopted, or by its name: 409), and
// no task body runs twice.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually } from "../e2e/helpers.js";
import { describeWithPostgres, sleep, type Daemon } from "../reliability/harness.js";
import { startKubeCluster, type KubeCluster } from "./executor-cluster.js";

const DAG = "k8s_adopt";
const WIDTH = 6;
const SOURCE = `
import { appendFileSync } from "node:fs";
import { chain, dag, task } from "updraft";
const MARKER = ${JSON.stringify("__MARKER__")};
export default dag({ dagId: "${DAG}", schedule: null, startDate: "2026-01-01", maxActiveTasks: 16 }, () => {
  const wide = [];
  for (let i = 0; i < ${WIDTH}; i++) {
    wide.push(
      task("w" + i, async (ctx) => {
        appendFileSync(MARKER, ctx.ti.task_id + " " + ctx.ti.try_number + "\\n");
        await new Promise((r) => setTimeout(r, 5000));
      })(),
    );
  }
  const last = task("last", (ctx) => {
    appendFileSync(MARKER, ctx.ti.task_id + " " + ctx.ti.try_number + "\\n");
  })();
  chain(wide, last);
});
`;

function markerLines(path: string): string[] {
  return existsSync(path)
    ? readFileSync(path, "utf8")
        .split("\n")
        .filter((l) => l !== "")
    : [];
}

await describeWithPostgres(
  "KubernetesExecutor: a scheduler killed mid-run is replaced and adopts its Pods",
  () => {
    let kc: KubeCluster;
    let first: Daemon;
    let marker: string;

    beforeAll(async () => {
      kc = await startKubeCluster();
      marker = join(kc.cluster.home, "marker.txt");
      kc.cluster.writeDag(`${DAG}.ts`, SOURCE.replace("__MARKER__", marker));
      kc.cluster.reserialize();
      ({ scheduler: first } = await kc.start({ UPDRAFT__KUBERNETES_EXECUTOR__DELETE_WORKER_PODS: "False" }));
    }, 120_000);

    afterAll(async () => {
      await kc?.close();
    });

    test("no try runs twice, every Pod is reported, the adopter's label is on the running Pods", async () => {
      kc.cluster.trigger(DAG, "adopt_1");
      // Kill once some bodies run (their Pods are Running) while others may still be starting.
      await eventually(
        () => (markerLines(marker).length >= 2 ? true : undefined),
        90_000,
        `two bodies\n${kc.cluster.logs()}`,
      );
      const [oldJob] = await kc.cluster.query<{ id: number }>(
        "select id from job where job_type = 'scheduler' and state = 'running' order by id desc limit 1",
      );
      const queuedAtKill = (
        await kc.cluster.query<{ task_id: string }>(
          "select task_id from task_instance where dag_id = $1 and state = 'queued'",
          [DAG],
        )
      ).map((r) => r.task_id);
      await first.kill();
      const podsAtKill = kc.pods(DAG).filter((p) => p.metadata.labels?.["updraft_executor_done"] !== "True");
      expect(podsAtKill.length).toBeGreaterThan(0);

      const second = await kc.startScheduler({ UPDRAFT__KUBERNETES_EXECUTOR__DELETE_WORKER_PODS: "False" });
      await second.waitFor(/adopted a worker Pod/, 30_000);
      expect(await kc.runEnd(DAG, "adopt_1")).toBe("success");
      await sleep(300);

      const [newJob] = await kc.cluster.query<{ id: number }>(
        "select id from job where job_type = 'scheduler' and state = 'running' order by id desc limit 1",
      );
      expect(newJob?.id).not.toBe(oldJob?.id);
      const lines = markerLines(marker);
      const tasks = [...Array.from({ length: WIDTH }, (_, i) => `w${i}`), "last"];
      expect(lines.sort()).toEqual(tasks.map((t) => `${t} 1`).sort());
      // One Pod per try: a re-queued try found its Pod instead of making a second one.
      const pods = kc.pods(DAG);
      expect(pods).toHaveLength(tasks.length);
      const created = kc.sim
        .requests()
        .filter((r) => r.method === "POST" && /\/pods$/.test(r.path) && r.status === 201);
      expect(created).toHaveLength(tasks.length);
      // The Pods alive at the kill now carry the new scheduler's id.
      for (const p of podsAtKill) {
        const now = pods.find((x) => x.metadata.name === p.metadata.name);
        expect(now?.metadata.labels?.["updraft-worker"], p.metadata.name).toBe(String(newJob?.id));
      }
      const statuses = kc.sim
        .requests()
        .filter((r) => r.method === "POST" && /\/pods$/.test(r.path))
        .map((r) => r.status);
      // A try queued at the kill is queued again by the new scheduler under the same try number: it
      // finds its Pod adopted already (or meets it with 409): one Pod per try either way.
      console.log(
        `[executor-adopt] queued at the kill: ${queuedAtKill.join(", ") || "none"}; Pod creates answered ${statuses.join(" ")}`,
      );
      const tis = await kc.cluster.tis(DAG, "adopt_1");
      expect(tis.every((t) => t.state === "success" && t.try_number === 1)).toBe(true);
    }, 180_000);
  },
);
