// Deadline alerts and SLA misses end to end, with real parts: the whole engine of `updraft
// standalone` (DAG processor, scheduler, LocalExecutor with real runner processes, API server) on
// in-memory PGlite runs a DAG whose only task sleeps past both its SLA and the DAG's deadline. The
// deadline callback runs once, in a runner, while the task still runs, within about a second of the
// deadline; a real UDP socket receives `sla_missed` and `deadline_alerts.deadline_missed`; the
// run's deadlines are listed by the REST API. Run `npm run build` first: runners are forked from dist/.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Engine } from "../../src/cli/engine.js";
import type { Database } from "../../src/db/index.js";
import { triggerDagRun } from "../../src/services/index.js";
import { seedUserWithToken } from "../api/helpers.js";
import { startTestEngine, type TestEngine } from "../engine-harness.js";
import { tempDir } from "../helpers.js";
import { listenUdp, until, type Udp } from "../metrics/udp.js";

const DEADLINE_MS = 1500;
const TASK_MS = 5000;

const dagSource = (out: string) => `import { appendFileSync } from "node:fs";
import { dag, task } from "updraft";
export default dag(
  {
    dagId: "late_dag",
    slaMissCallback: () => undefined,
    deadline: {
      reference: "queuedAt",
      interval: ${DEADLINE_MS},
      callback: (miss) => {
        appendFileSync(${JSON.stringify(out)}, JSON.stringify({ at: Date.now(), pid: process.pid, miss }) + "\\n");
      },
    },
  },
  () => {
    task({ taskId: "slow", sla: 1000 }, () => new Promise((r) => setTimeout(r, ${TASK_MS})))();
  },
);
`;

interface CallbackLine {
  at: number;
  pid: number;
  miss: {
    dag_run: { dag_id: string; run_id: string; logical_date: string | null };
    deadline: { alert_index: number; reference_type: string; deadline_time: string };
  };
}

describe("a run that passes its deadline while its task still runs", () => {
  let udp: Udp;
  let t: TestEngine;
  let engine: Engine;
  let database: Database;
  let out: string;
  const runId = "manual__late";
  beforeAll(async () => {
    udp = await listenUdp();
    const home = tempDir("updraft-deadline-");
    out = join(home, "deadline-callbacks.jsonl");
    t = await startTestEngine({
      name: "deadline",
      home,
      files: { "late_dag.ts": dagSource(out) },
      overrides: {
        "core.dags_are_paused_at_creation": false,
        // The periodic pass is a minute away: only the deadline timer can see the deadline in time.
        "scheduler.scheduler_heartbeat_sec": 60,
        "metrics.statsd_on": true,
        "metrics.statsd_host": "127.0.0.1",
        "metrics.statsd_port": udp.port,
      },
    });
    ({ engine, database } = t);
    await seedUserWithToken(database, "watcher", "Viewer", "watcher-token");
    await triggerDagRun(database.db, { dagId: "late_dag", runId }, { events: engine.events });
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    udp?.socket.close();
  });

  it("runs the callback once, in a runner, within about a second, while the task runs", async () => {
    const lines = await until(
      "the deadline callback",
      () => (existsSync(out) ? readFileSync(out, "utf8").trim().split("\n") : undefined),
      30_000,
    );
    const first = JSON.parse(lines[0] ?? "{}") as CallbackLine;
    expect(first.miss.dag_run).toMatchObject({ dag_id: "late_dag", run_id: runId });
    expect(first.miss.deadline).toMatchObject({ alert_index: 0, reference_type: "DagRunQueuedAtDeadline" });
    expect(first.pid).not.toBe(process.pid); // a runner process, not the engine's
    const run = await database.db
      .selectFrom("dag_run")
      .select(["queued_at"])
      .where("run_id", "=", runId)
      .executeTakeFirstOrThrow();
    const deadline = new Date(first.miss.deadline.deadline_time).getTime();
    expect(deadline).toBe((run.queued_at?.getTime() ?? 0) + DEADLINE_MS);
    const recorded = await database.db
      .selectFrom("deadline")
      .selectAll()
      .where("run_id", "=", runId)
      .execute();
    expect(recorded).toHaveLength(1);
    // Recorded by the timer within a second (the periodic pass is a minute away).
    const late = (recorded[0]?.created_at.getTime() ?? Infinity) - deadline;
    expect(late).toBeGreaterThanOrEqual(0);
    expect(late).toBeLessThan(1000);
    // The callback ran (runner start included) while the task still ran.
    const slow = await database.db
      .selectFrom("task_instance")
      .select(["state", "end_date"])
      .where("run_id", "=", runId)
      .executeTakeFirstOrThrow();
    expect(slow.end_date === null || slow.end_date.getTime() > first.at).toBe(true);
    // Once: still one line after the run ended.
    await until("the run to end", async () => {
      const r = await database.db
        .selectFrom("dag_run")
        .select("state")
        .where("run_id", "=", runId)
        .executeTakeFirstOrThrow();
      return r.state === "success" || r.state === "failed" ? r.state : undefined;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(readFileSync(out, "utf8").trim().split("\n")).toHaveLength(1);
  });

  it("counts sla_missed and deadline_alerts.deadline_missed over StatsD", async () => {
    const has = (re: RegExp) => udp.lines.some((l) => re.test(l));
    await until(
      "the miss counters over UDP",
      () =>
        has(/^airflow\.sla_missed:1\|c$/) && has(/^airflow\.deadline_alerts\.deadline_missed:1\|c$/)
          ? true
          : undefined,
      10_000,
    ).catch(() => {
      throw new Error(`received: ${udp.lines.join(" ")}`);
    });
  });

  it("lists the run's deadline as missed in the REST API", async () => {
    const res = await fetch(`${engine.url}/api/v1/dags/late_dag/dagRuns/${runId}/deadlines`, {
      headers: { authorization: "Bearer watcher-token" },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      dag_id: "late_dag",
      dag_run_id: runId,
      total_entries: 1,
      deadlines: [{ alert_index: 0, reference_type: "DagRunQueuedAtDeadline", missed: true }],
    });
    const missing = await fetch(`${engine.url}/api/v1/dags/late_dag/dagRuns/nope/deadlines`, {
      headers: { authorization: "Bearer watcher-token" },
    });
    expect(missing.status).toBe(404);
  });
});
