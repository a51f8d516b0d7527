// RELIABILITY.md item 3: SIGKILL a task runner mid-task, also before its first heartbeat. The try
// goes to up_for_retry (tries left) or failed (none left) exactly once, within the heartbeat
// timeout, with one task_instance_history row per try; a retry then runs normally.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { eventually } from "../e2e/helpers.js";
import { Cluster, describeWithPostgres, sleep, type Daemon } from "./harness.js";

const HEARTBEAT_TIMEOUT_S = 3;
/** The transition must come within the heartbeat timeout plus this much (scheduler heartbeat 1 s). */
const SLACK_S = 3;

function dagSource(dagId: string, retries: number): string {
  return `
import { appendFileSync } from "node:fs";
import { dag, task } from "updraft";

export default dag({ dagId: "${dagId}", schedule: null, startDate: "2026-01-01" }, () => {
  task({ taskId: "victim", retries: ${retries}, retryDelay: 0 }, async (ctx) => {
    appendFileSync(process.env.RELIABILITY_MARKER!, "${dagId} " + ctx.ti.try_number + "\\n");
    // The first try waits to be killed; a retry succeeds at once.
    if (ctx.ti.try_number === 1) await new Promise((resolve) => setTimeout(resolve, 120_000));
  })();
});
`;
}

interface VictimRow {
  state: string | null;
  try_number: number;
  pid: number | null;
  before_first_heartbeat: boolean;
}

await describeWithPostgres("reliability: task runner SIGKILL", () => {
  let cluster: Cluster;
  let marker: string;
  let scheduler: Daemon;

  beforeAll(async () => {
    cluster = await Cluster.create({
      UPDRAFT__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT: String(HEARTBEAT_TIMEOUT_S),
    });
    marker = join(cluster.home, "marker.txt");
    cluster.writeDag("retry_early.ts", dagSource("kill_retry_early", 1));
    cluster.writeDag("retry_late.ts", dagSource("kill_retry_late", 1));
    cluster.writeDag("no_retry.ts", dagSource("kill_no_retry", 0));
    cluster.writeDag("orphan.ts", dagSource("kill_orphan", 1));
    cluster.reserialize();
    ({ scheduler } = await cluster.start({ RELIABILITY_MARKER: marker }));
  });

  afterAll(async () => {
    await cluster?.close();
  });

  const victim = async (dagId: string): Promise<VictimRow | undefined> =>
    (
      await cluster.query<VictimRow>(
        `select state, try_number, pid, last_heartbeat_at = start_date as before_first_heartbeat
         from task_instance where dag_id = $1 and run_id = 'r' and task_id = 'victim'`,
        [dagId],
      )
    )[0];

  const bodies = (dagId: string): string[] =>
    (existsSync(marker) ? readFileSync(marker, "utf8").split("\n") : []).filter((l) =>
      l.startsWith(`${dagId} `),
    );

  /**
   * Triggers the DAG, waits for try 1 to run (before its first heartbeat, or after `heartbeats` of
   * them), SIGKILLs its runner and returns when that happened and the pid.
   */
  async function killFirstTry(
    dagId: string,
    afterHeartbeats: number,
  ): Promise<{ killedAt: number; pid: number }> {
    cluster.trigger(dagId, "r");
    const row = await eventually(
      async () => {
        const r = await victim(dagId);
        return r?.state === "running" && r.pid !== null && bodies(dagId).length === 1 ? r : undefined;
      },
      30_000,
      `try 1 of ${dagId} to run\n${cluster.logs()}`,
    );
    // A warm runner sends its first heartbeat one interval (1 s here) after start: poll fast.
    const pid = row.pid!;
    cluster.trackPid(pid);
    if (afterHeartbeats === 0) {
      expect(row.before_first_heartbeat, "the runner was to be killed before its first heartbeat").toBe(true);
    } else {
      await sleep(afterHeartbeats * 1000 + 300);
      const r = await victim(dagId);
      expect(r?.state).toBe("running");
      expect(r?.before_first_heartbeat, "the runner has sent heartbeats").toBe(false);
    }
    process.kill(pid, "SIGKILL");
    return { killedAt: Date.now(), pid };
  }

  /** Waits for try 1 to leave `running` and returns how long that took after the kill. */
  async function settleTime(dagId: string, killedAt: number): Promise<number> {
    await eventually(
      async () => {
        const r = await victim(dagId);
        return r !== undefined && !(r.state === "running" && r.try_number === 1) ? true : undefined;
      },
      (HEARTBEAT_TIMEOUT_S + SLACK_S) * 1000 + 5000,
      `try 1 of ${dagId} to be settled after its runner was killed\n${cluster.logs()}`,
    );
    return (Date.now() - killedAt) / 1000;
  }

  const runState = (dagId: string): Promise<string> =>
    eventually(
      async () => {
        const s = await cluster.runState(dagId, "r");
        return s === "success" || s === "failed" ? s : undefined;
      },
      30_000,
      `the run of ${dagId} to end\n${cluster.logs()}`,
    );

  for (const [dagId, heartbeats, label] of [
    ["kill_retry_early", 0, "before its first heartbeat"],
    ["kill_retry_late", 2, "after two heartbeats"],
  ] as const) {
    test(`retries: 1, runner killed ${label} → up_for_retry once, then try 2 succeeds`, async () => {
      const { killedAt } = await killFirstTry(dagId, heartbeats);
      const seconds = await settleTime(dagId, killedAt);
      expect(await runState(dagId), cluster.logs()).toBe("success");

      const ti = (await victim(dagId))!;
      expect(ti.state).toBe("success");
      expect(ti.try_number).toBe(2);
      const history = await cluster.history(dagId, "r");
      expect(history.map((h) => [h.try_number, h.state])).toEqual([
        [1, "up_for_retry"],
        [2, "success"],
      ]);
      expect(history[0]!.error ?? "").toMatch(/runner (was lost|stopped heartbeating)/);
      // Try 1's body started once (and was killed), try 2's body ran once.
      expect(bodies(dagId)).toEqual([`${dagId} 1`, `${dagId} 2`]);
      console.log(`[runner-crash] ${dagId}: try 1 settled ${seconds.toFixed(2)} s after SIGKILL`);
      expect(seconds).toBeLessThanOrEqual(HEARTBEAT_TIMEOUT_S + SLACK_S);
    }, 60_000);
  }

  test("retries: 0, runner killed before its first heartbeat → failed once, the run failed", async () => {
    const dagId = "kill_no_retry";
    const { killedAt } = await killFirstTry(dagId, 0);
    const seconds = await settleTime(dagId, killedAt);
    expect(await runState(dagId), cluster.logs()).toBe("failed");
    // Past another heartbeat timeout nothing changes any more: settled exactly once.
    await sleep((HEARTBEAT_TIMEOUT_S + 1) * 1000);
    const ti = (await victim(dagId))!;
    expect(ti.state).toBe("failed");
    expect(ti.try_number).toBe(1);
    const history = await cluster.history(dagId, "r");
    expect(history.map((h) => [h.try_number, h.state])).toEqual([[1, "failed"]]);
    expect(bodies(dagId)).toEqual([`${dagId} 1`]);
    console.log(`[runner-crash] ${dagId}: try 1 settled ${seconds.toFixed(2)} s after SIGKILL`);
    expect(seconds).toBeLessThanOrEqual(HEARTBEAT_TIMEOUT_S + SLACK_S);
  }, 60_000);

  test("no executor watches the runner (its scheduler died too) → the heartbeat timeout settles it once", async () => {
    // Without an executor to report the death, only the heartbeat deadline finds the lost try:
    // the path a runner on a lost host takes. The runner's own scheduler is SIGKILLed first (the
    // runner carries on and keeps heartbeating), a new scheduler starts, then the runner is killed.
    const dagId = "kill_orphan";
    cluster.trigger(dagId, "r");
    const row = await eventually(
      async () => {
        const r = await victim(dagId);
        return r?.state === "running" && r.pid !== null ? r : undefined;
      },
      30_000,
      `try 1 of ${dagId} to run\n${cluster.logs()}`,
    );
    cluster.trackPid(row.pid!);
    await scheduler.kill();
    scheduler = await cluster.startScheduler({ RELIABILITY_MARKER: marker });
    // The new scheduler leaves a healthy running try of the dead one alone.
    await sleep((HEARTBEAT_TIMEOUT_S + 1) * 1000);
    expect(await victim(dagId)).toMatchObject({ state: "running", try_number: 1, pid: row.pid });

    process.kill(row.pid!, "SIGKILL");
    const seconds = await settleTime(dagId, Date.now());
    expect(await runState(dagId), cluster.logs()).toBe("success");
    const history = await cluster.history(dagId, "r");
    expect(history.map((h) => [h.try_number, h.state])).toEqual([
      [1, "up_for_retry"],
      [2, "success"],
    ]);
    expect(history[0]!.error ?? "").toMatch(/stopped heartbeating/);
    expect(bodies(dagId)).toEqual([`${dagId} 1`, `${dagId} 2`]);
    console.log(
      `[runner-crash] ${dagId}: try 1 settled ${seconds.toFixed(2)} s after SIGKILL (heartbeat timeout ${HEARTBEAT_TIMEOUT_S} s)`,
    );
    // No heartbeat for the timeout, then at most one scheduler heartbeat until the reaping pass.
    expect(seconds).toBeLessThanOrEqual(HEARTBEAT_TIMEOUT_S + SLACK_S);
  }, 60_000);
});
