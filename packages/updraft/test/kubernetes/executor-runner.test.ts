// What a worker Pod runs, `updraft tasks run … --workload-env UPDRAFT_WORKLOAD`, as a real process
// against a real API server on PostgreSQL, without any database setting: the token from
// UPDRAFT_EXECUTION_TOKEN, the task log echoed to stdout, and a refused start asked again (the
// moment after a scheduler's death when its successor sends the try back to scheduled to queue
// it again under the same number), so that the Pod, which stays the try's Pod, runs it.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { signToken } from "../../src/common/signed-token.js";
import { taskLogRelativePath } from "../../src/model/log-path.js";
import { eventually } from "../e2e/helpers.js";
import { builtBinary, Cluster, describeWithPostgres, SECRET, sleep } from "../reliability/harness.js";

const DAG = "k8s_runner";
const SOURCE = `
import { dag, task } from "updraft";
export default dag({ dagId: "${DAG}", schedule: null, startDate: "2026-01-01" }, () => {
  task("only", () => console.log("the body ran once"))();
});
`;

await describeWithPostgres("the worker Pod's command", () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await Cluster.create();
    cluster.writeDag(`${DAG}.ts`, SOURCE);
    cluster.reserialize();
    await cluster.startApiServer();
  }, 120_000);

  afterAll(async () => {
    await cluster?.close();
  });

  test("runs the try from its env without a database, logs to stdout, and asks again when refused", async () => {
    cluster.trigger(DAG, "r1");
    // As a successor scheduler leaves a try its dead predecessor had queued: scheduled, try 0.
    await cluster.query(
      "update task_instance set state = 'scheduled', try_number = 0 where dag_id = $1 and run_id = 'r1'",
      [DAG],
    );
    const ti = { dag_id: DAG, run_id: "r1", task_id: "only", map_index: -1 };
    const token = signToken(
      { ti, try_number: 1, exp: Math.floor(Date.now() / 1000) + 3600, scope: "task" },
      SECRET,
    );
    const workload = {
      kind: "task",
      ti,
      try_number: 1,
      fileloc: join(cluster.dagsFolder, `${DAG}.ts`),
      api_url: cluster.apiUrl,
      log_path: join(cluster.home, "logs", taskLogRelativePath(ti, 1)),
      fresh_process: true,
      queue: "default",
      priority_weight: 1,
      execution_timeout_ms: null,
    };
    // Only what a Pod has: no UPDRAFT__DATABASE__*, no secret key.
    const child = spawn(
      process.execPath,
      [
        builtBinary(),
        "tasks",
        "run",
        DAG,
        "only",
        "r1",
        "--map-index",
        "-1",
        "--workload-env",
        "UPDRAFT_WORKLOAD",
      ],
      {
        env: {
          PATH: process.env["PATH"] ?? "",
          HOME: cluster.home,
          UPDRAFT_HOME: cluster.home,
          UPDRAFT_WORKLOAD: JSON.stringify(workload),
          UPDRAFT_EXECUTION_TOKEN: token,
        },
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    // The first start is refused (the try is scheduled); then the try is queued again as try 1.
    await eventually(
      () => (/start refused with 409/.test(out) ? true : undefined),
      60_000,
      `a refused start\n${out}`,
    );
    await sleep(200);
    await cluster.query(
      "update task_instance set state = 'queued', try_number = 1, queued_dttm = now() where dag_id = $1 and run_id = 'r1'",
      [DAG],
    );
    expect(await exited, out).toBe(0);
    const [row] = await cluster.query<{ state: string; try_number: number }>(
      "select state, try_number from task_instance where dag_id = $1 and run_id = 'r1'",
      [DAG],
    );
    expect(row).toEqual({ state: "success", try_number: 1 });
    // The task's log on stdout (kubectl logs), the body's line once, and the token nowhere.
    expect(out.match(/the body ran once/g)).toHaveLength(1);
    expect(out).toContain("Task k8s_runner.only try 1: success");
    expect(out).not.toContain(token);
  }, 120_000);
});
