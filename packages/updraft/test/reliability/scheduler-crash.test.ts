// RELIABILITY.md item 1: SIGKILL the scheduler in the middle of a 200-task run, start a new one.
//
// What must hold (decisions 0006 §5–6 and 0008 §6):
// - Runners outlive the killed scheduler: a runner busy with a try finishes it, reports it to the
//   API server and exits, so that try is never run again.
// - Task instances the dead scheduler had queued (workloads still in its executor's memory, never
//   started) are adopted once its job is stale: set back to scheduled, then queued again with a
//   NEW try number. Their first try never started (a runner's `start` for it is refused), so no
//   body ran for it.
// Hence the strict invariant on the marker file, where every body appends "<task_id> <try>":
// exactly 200 lines, each task id exactly once (no body ran twice, none was lost), and a try
// number above 1 only for a task instance that was queued-but-not-running when the scheduler
// died; its earlier tries left no history row (they never ran, so there is no finished try).
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually } from "../e2e/helpers.js";
import { alive, Cluster, describeWithPostgres, sleep, type Daemon } from "./harness.js";

const DAG_ID = "crash_200";
const RUN_ID = "crash_run";
const CHAINS = 10;
const STEPS = 20;
const TOTAL = CHAINS * STEPS;
/** The scheduler's stale-job threshold: scheduler.scheduler_health_check_threshold, set by the harness. */
const STALE_JOB_AFTER_S = 6;

const DAG_SOURCE = `
import { appendFileSync } from "node:fs";
import { chain, dag, task } from "updraft";

export default dag({ dagId: "${DAG_ID}", schedule: null, startDate: "2026-01-01", maxActiveTasks: 64 }, () => {
  for (let c = 0; c < ${CHAINS}; c++) {
    const steps = [];
    for (let s = 0; s < ${STEPS}; s++) {
      // Steps 5–7 (where the chains are when 30 % is done) run in a fresh process: the workload
      // waits in the executor while the process starts, so the scheduler is likely killed while
      // some task instance is queued and no runner has it yet (RELIABILITY item 1's window).
      steps.push(
        task({ taskId: "c" + c + "_s" + s, freshProcess: s >= 5 && s <= 7 }, async (ctx) => {
          // One write per line: appends of a short line are atomic, so lines never interleave.
          appendFileSync(process.env.RELIABILITY_MARKER!, ctx.ti.task_id + " " + ctx.ti.try_number + "\\n");
          await new Promise((resolve) => setTimeout(resolve, 20 + Math.floor(Math.random() * 30)));
        })(),
      );
    }
    chain(...steps);
  }
});
`;

function markerLines(path: string): string[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "");
}

await describeWithPostgres("reliability: scheduler SIGKILL mid-run", () => {
  let cluster: Cluster;
  let marker: string;
  let first: Daemon;

  beforeAll(async () => {
    // A small parallelism keeps the run going for a few seconds, so the kill lands mid-run, and
    // keeps workloads waiting in the executor's queue (queued in the database, not yet started).
    cluster = await Cluster.create({ UPDRAFT__CORE__PARALLELISM: "6" });
    marker = join(cluster.home, "marker.txt");
    cluster.writeDag("crash_200.ts", DAG_SOURCE);
    cluster.reserialize();
    ({ scheduler: first } = await cluster.start({ RELIABILITY_MARKER: marker }));
  });

  afterAll(async () => {
    await cluster?.close();
  });

  test("the run completes after a restart and no task body runs twice", async () => {
    cluster.trigger(DAG_ID, RUN_ID);

    // Kill once at least 30 % of the bodies have run, at a moment when some task instance is
    // queued (claimed by the scheduler, not yet started by a runner) if one comes within 3 s.
    await eventually(
      () => (markerLines(marker).length >= TOTAL * 0.3 ? true : undefined),
      40_000,
      `30 % of the marker lines\n${cluster.logs()}`,
    );
    const deadline = Date.now() + 3000;
    let busy: { task_id: string; state: string; pid: number | null }[] = [];
    while (Date.now() < deadline) {
      busy = await cluster.query(
        "select task_id, state, pid from task_instance where state in ('queued', 'running')",
      );
      if (busy.some((t) => t.state === "queued")) break;
      await sleep(10);
    }
    await first.kill();
    // Tries running just before the kill: their runners outlive the scheduler and finish them.
    const runningAtKill = busy.filter((t) => t.state === "running").map((t) => t.task_id);
    for (const t of busy) if (t.pid !== null) cluster.trackPid(t.pid);
    const killedAt = Date.now();
    const linesAtKill = markerLines(marker).length;
    expect(linesAtKill).toBeLessThan(TOTAL);

    const oldJob = (
      await cluster.query<{ id: number; age_s: number }>(
        `select id, extract(epoch from now() - latest_heartbeat)::float8 as age_s from job
         where job_type = 'scheduler' order by id desc limit 1`,
      )
    )[0];
    expect(oldJob).toBeDefined();
    // What the dead scheduler left: queued (never started) and running (its runners carry on).
    const atKill = await cluster.tis(DAG_ID, RUN_ID);
    const queuedAtKill = new Set(
      atKill.filter((t) => t.state === "queued" && t.queued_by_job_id === oldJob!.id).map((t) => t.task_id),
    );

    // The runners the scheduler forked are orphans now: each finishes its try and exits.
    for (const t of atKill) if (t.pid !== null) cluster.trackPid(t.pid);

    await cluster.startScheduler({ RELIABILITY_MARKER: marker });
    const restartedAt = Date.now();

    // Adoption: the restarted scheduler, on the same host, sees its predecessor's process is gone
    // and takes back what it queued at once, without waiting out the stale-job threshold.
    const adoptedAt = await eventually(
      async () => {
        const rows = await cluster.query<{ n: number }>(
          `select count(*)::int as n from task_instance where state = 'queued' and queued_by_job_id = $1`,
          [oldJob!.id],
        );
        return rows[0]!.n === 0 ? Date.now() : undefined;
      },
      90_000,
      `adoption of the task instances queued by the dead scheduler\n${cluster.logs()}`,
    );

    const state = await eventually(
      async () => {
        const s = await cluster.runState(DAG_ID, RUN_ID);
        return s === "success" || s === "failed" ? s : undefined;
      },
      90_000,
      `the end of the run\n${cluster.logs()}`,
    );
    const doneAt = Date.now();
    const tis = await cluster.tis(DAG_ID, RUN_ID);
    const notSuccess = tis.filter((t) => t.state !== "success");
    expect(state, `${JSON.stringify(notSuccess)}\n${cluster.logs()}`).toBe("success");
    expect(tis).toHaveLength(TOTAL);

    // The orphaned runners have finished and exited.
    for (const t of atKill)
      if (t.pid !== null)
        await eventually(() => (alive(t.pid!) ? undefined : true), 10_000, `runner ${t.pid} to exit`);
    await sleep(200); // a late append from a runner would show up here

    const lines = markerLines(marker);
    const byTask = new Map<string, number[]>();
    for (const line of lines) {
      const [taskId, tryNumber] = line.split(" ");
      byTask.set(taskId!, [...(byTask.get(taskId!) ?? []), Number(tryNumber)]);
    }
    const twice = [...byTask].filter(([, tries]) => tries.length > 1);
    expect(twice, "task bodies that ran more than once").toEqual([]);
    expect(lines).toHaveLength(TOTAL);
    expect(byTask.size).toBe(TOTAL);

    // Every body ran as try 1: a try the dead scheduler queued and no runner started used up no
    // attempt (issue 7). The database agrees with the body that ran, and no other try finished.
    const history = await cluster.history(DAG_ID, RUN_ID);
    for (const t of tis) {
      const tries = byTask.get(t.task_id) ?? [];
      expect(tries, t.task_id).toEqual([t.try_number]);
      expect(
        t.try_number,
        `${t.task_id} ran try ${t.try_number} (queued at the kill: ${queuedAtKill.has(t.task_id)})`,
      ).toBe(1);
      const finished = history.filter((h) => h.task_id === t.task_id && h.end_date !== null);
      expect(
        finished.map((h) => [h.try_number, h.state]),
        `${t.task_id}: one finished try, the one that ran`,
      ).toEqual([[t.try_number, "success"]]);
    }
    for (const id of runningAtKill)
      expect(byTask.get(id), `${id} was running at the kill: finished by its orphaned runner`).toEqual([1]);

    const adoptionS = (adoptedAt - killedAt) / 1000;
    const afterRestartS = (adoptedAt - restartedAt) / 1000;
    console.log(
      `[scheduler-crash] killed at ${linesAtKill}/${TOTAL} lines; queued by the dead scheduler: ${queuedAtKill.size}, running: ${runningAtKill.length}; ` +
        `restart took ${((restartedAt - killedAt) / 1000).toFixed(1)} s, adoption ${adoptionS.toFixed(1)} s after the kill, run done ${((doneAt - killedAt) / 1000).toFixed(1)} s after the kill`,
    );
    if (queuedAtKill.size > 0) {
      expect(
        afterRestartS,
        `the restarted scheduler must take back its dead predecessor's queued work at once, not after the stale-job threshold (${STALE_JOB_AFTER_S} s)`,
      ).toBeLessThan(STALE_JOB_AFTER_S / 2);
    }
  }, 120_000);
});
