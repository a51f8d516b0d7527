// Issue 13's "Done when": the warehouse example DAGs (SQL, S3, HTTP, a deferrable sensor, an
// asset schedule) run in `updraft standalone` against the local services, started as
// `npm run example-services` starts them, with the connections it prints given as UPDRAFT_CONN_*
// variables. Needs dist/ (npm run build) and the test PostgreSQL server.
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import pg from "pg";
import { afterAll, describe, expect, test } from "vitest";
import { startExampleServices, type ExampleServices } from "../../../../scripts/example-services-start.mjs";
import { UpdraftError } from "../../src/common/errors.js";
import { taskLogRelativePath } from "../../src/model/log-path.js";
import { TEST_POSTGRES_URL, postgresProblem } from "../db-testing.js";
import { Daemon, EXAMPLES, eventually, updraft } from "./helpers.js";

const problem = await postgresProblem();
if (problem !== null && process.env["CI"] === "true")
  throw new UpdraftError("TEST_POSTGRES_UNREACHABLE", `${problem}. CI must run the warehouse example.`);
if (problem !== null)
  console.warn(
    `SKIPPED the warehouse example: ${problem}. Start PostgreSQL or set UPDRAFT_TEST_POSTGRES_URL.`,
  );

const home = mkdtempSync(join(tmpdir(), "updraft-e2e-warehouse-"));
const database = `updraft_example_${randomBytes(5).toString("hex")}`;
let services: ExampleServices | undefined;
let daemon: Daemon | undefined;

/** The first try's log file, where standalone writes it. */
function logOf(dagId: string, runId: string, taskId: string): string {
  return join(
    home,
    "logs",
    taskLogRelativePath({ dag_id: dagId, run_id: runId, task_id: taskId, map_index: -1 }, 1),
  );
}

afterAll(async () => {
  await daemon?.stop("SIGKILL");
  await services?.stop();
  if (problem === null) {
    const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${database} with (force)`);
    await admin.end();
  }
  rmSync(home, { recursive: true, force: true });
});

describe.skipIf(problem !== null)("the warehouse example in standalone", () => {
  test("the producer loads S3 and PostgreSQL, and its asset runs the consumer", async () => {
    services = await startExampleServices({
      s3Port: 0,
      httpPort: 0,
      postgresUrl: TEST_POSTGRES_URL,
      database,
    });
    // DAGs that do not say start unpaused here, so the example DAGs' own option is what keeps
    // them paused.
    const env = { UPDRAFT_HOME: home, UPDRAFT__CORE__DAGS_ARE_PAUSED_AT_CREATION: "false", ...services.env };
    daemon = new Daemon(["standalone", "--port", "0", "--dags-folder", EXAMPLES], env);
    const url = (await daemon.waitFor(/API and execution API: (http:\/\/[^\s]+)/, 120_000))[1];
    await daemon.waitFor(/first parse of the DAG folder finished/, 120_000);

    const { token } = JSON.parse(readFileSync(join(home, "standalone.json"), "utf8")) as { token: string };
    const res = await fetch(`${url}/api/v1/dags?limit=100`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const { dags } = (await res.json()) as { dags: { dag_id: string; is_paused: boolean }[] };
    const paused = Object.fromEntries(dags.map((d) => [d.dag_id, d.is_paused]));
    expect(paused).toMatchObject({
      warehouse_ingest: true,
      warehouse_report: true,
      data_pipeline_lab: false,
    });

    for (const dagId of ["warehouse_ingest", "warehouse_report"])
      expect(updraft(["dags", "unpause", dagId], env).code).toBe(0);
    const t = updraft(["dags", "trigger", "warehouse_ingest", "--run-id", "e2e_ingest"], env);
    expect(t.code, t.stderr).toBe(0);

    const state = await eventually(
      () => {
        const s = updraft(["dags", "state", "warehouse_ingest", "e2e_ingest"], env).stdout.trim();
        return s === "success" || s === "failed" ? s : undefined;
      },
      120_000,
      "the run of warehouse_ingest",
    );
    const tis = JSON.parse(
      updraft(["tasks", "states-for-dag-run", "warehouse_ingest", "e2e_ingest", "--output", "json"], env)
        .stdout,
    ) as { task_id: string; state: string; try_number: number }[];
    expect(state, daemon.output.slice(-3000)).toBe("success");
    expect(tis.map((ti) => [ti.task_id, ti.state, ti.try_number]).sort()).toEqual([
      ["create_orders_table", "success", 1],
      ["fetch_orders", "success", 1],
      ["load_orders", "success", 1],
      ["store_raw_orders", "success", 1],
      ["wait_for_orders_api", "success", 1],
    ]);

    // The orders API answered "warming up" first: the sensor waited in the triggerer.
    const sensorLog = readFileSync(logOf("warehouse_ingest", "e2e_ingest", "wait_for_orders_api"), "utf8");
    expect(sensorLog).toContain("Pausing task as DEFERRED");

    // The raw answer is in the bucket, under the run's day.
    const s3 = new S3Client({
      endpoint: services.s3Endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: "warehouse", Prefix: "orders/" }));
    s3.destroy();
    const keys = (listed.Contents ?? []).map((o) => o.Key ?? "");
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^orders\/\d{4}-\d{2}-\d{2}\/\d{8}T\d{6}\.json$/);

    // The day's orders are rows in the example database.
    const client = new pg.Client({ connectionString: services.postgresUrl });
    await client.connect();
    const rows = await client.query<{ n: number; regions: number }>(
      "select count(*)::int as n, count(distinct region)::int as regions from warehouse_orders",
    );
    await client.end();
    expect(rows.rows[0]).toEqual({ n: 12, regions: 4 });

    // The load's asset event made one run of the consumer, which passed its checks.
    const runs = await eventually(
      () => {
        const r = updraft(["dags", "list-runs", "warehouse_report", "--output", "json"], env);
        const all = JSON.parse(r.stdout || "[]") as { run_id: string; run_type: string; state: string }[];
        return all.some((x) => x.state === "success" || x.state === "failed") ? all : undefined;
      },
      120_000,
      "the asset-triggered run of warehouse_report",
    );
    expect(
      runs.map((r) => [r.run_type, r.state]),
      daemon.output.slice(-3000),
    ).toEqual([["asset_triggered", "success"]]);
    const reportLog = readFileSync(logOf("warehouse_report", runs[0]?.run_id ?? "", "report"), "utf8");
    expect(reportLog).toContain("updated by warehouse_ingest / e2e_ingest");
    expect(reportLog).toContain(keys[0]);

    // A graceful stop takes the runner processes down with it (afterAll's SIGKILL would orphan them).
    expect(await daemon.stop("SIGTERM")).toBe(0);
  }, 300_000);
});
