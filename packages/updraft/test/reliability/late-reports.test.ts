// RELIABILITY.md item 12 (and the refusal half of item 4), at the HTTP level against a real
// `updraft api-server`: duplicate and late state reports change nothing.
// - a start from a second runner for the try that is running → 409;
// - a finish, heartbeat or start carrying an old try's token → 409, while the new try runs and
//   after it finished;
// - a second finish of a try that already finished (terminal → terminal) → 409.
// Each refusal leaves the task instance row, its history rows and the run exactly as they were.
// The tokens are signed here with the cluster's secret key, as the scheduler signs them: a
// second runner holding a valid token for that try is exactly what the server must refuse.
import { existsSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { signToken } from "../../src/common/signed-token.js";
import type { TokenClaims } from "../../src/model/execution-api.js";
import { eventually } from "../e2e/helpers.js";
import { Cluster, describeWithPostgres, SECRET } from "./harness.js";

const DAG_ID = "late_reports";
const RUN_ID = "r";
const TI = { dag_id: DAG_ID, run_id: RUN_ID, task_id: "flaky", map_index: -1 };

const DAG_SOURCE = `
import { existsSync } from "node:fs";
import { dag, task } from "updraft";

export default dag({ dagId: "${DAG_ID}", schedule: null, startDate: "2026-01-01" }, () => {
  task({ taskId: "flaky", retries: 1, retryDelay: 0 }, async (ctx) => {
    if (ctx.ti.try_number === 1) throw new Error("first try fails");
    // The second try runs until the test releases it.
    while (!existsSync(process.env.RELIABILITY_RELEASE!)) await new Promise((r) => setTimeout(r, 50));
  })();
});
`;

function tokenFor(tryNumber: number): string {
  const claims: TokenClaims = {
    ti: TI,
    try_number: tryNumber,
    exp: Math.floor(Date.now() / 1000) + 600,
    scope: "task",
  };
  return signToken(claims, SECRET);
}

await describeWithPostgres("reliability: duplicate and late state reports", () => {
  let cluster: Cluster;
  let release: string;

  beforeAll(async () => {
    cluster = await Cluster.create();
    release = join(cluster.home, "release");
    cluster.writeDag("late_reports.ts", DAG_SOURCE);
    cluster.reserialize();
    await cluster.start({ RELIABILITY_RELEASE: release });
  });

  afterAll(async () => {
    if (cluster !== undefined && !existsSync(release)) writeFileSync(release, "");
    await cluster?.close();
  });

  async function post(
    route: string,
    tryNumber: number,
    body: unknown,
  ): Promise<{ status: number; body: unknown }> {
    const res = await fetch(`${cluster.apiUrl}/execution/ti/${route}`, {
      method: "POST",
      headers: { authorization: `Bearer ${tokenFor(tryNumber)}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text === "" ? null : (JSON.parse(text) as unknown) };
  }

  /** Everything the server stores about the task instance and its run, as JSON. */
  async function snapshot(): Promise<{ ti: Record<string, unknown>; history: unknown[]; run: unknown }> {
    const ti = await cluster.query<{ row: Record<string, unknown> }>(
      `select row_to_json(t) as row from task_instance t
       where dag_id = $1 and run_id = $2 and task_id = $3 and map_index = $4`,
      [TI.dag_id, TI.run_id, TI.task_id, TI.map_index],
    );
    const history = await cluster.query<{ row: unknown }>(
      `select row_to_json(h) as row from task_instance_history h
       where dag_id = $1 and run_id = $2 and task_id = $3 order by try_number`,
      [TI.dag_id, TI.run_id, TI.task_id],
    );
    const run = await cluster.query<{ row: unknown }>(
      "select row_to_json(r) as row from dag_run r where dag_id = $1 and run_id = $2",
      [TI.dag_id, TI.run_id],
    );
    return { ti: ti[0]!.row, history: history.map((h) => h.row), run: run[0]!.row };
  }

  /** While the real runner heartbeats, its heartbeat columns move; everything else must not. */
  function withoutHeartbeat(s: Awaited<ReturnType<typeof snapshot>>): unknown {
    const { last_heartbeat_at: _hb, updated_at: _u, ...ti } = s.ti;
    return { ...s, ti };
  }

  const conflict = { status: 409, body: expect.objectContaining({ status: 409, code: "TI_CONFLICT" }) };
  const runner2 = { hostname: `${hostname()}-second-runner`, pid: 999_999 };

  test("refused with 409 and nothing changes, while the retry runs and after it finished", async () => {
    cluster.trigger(DAG_ID, RUN_ID);
    await eventually(
      async () => {
        const s = await snapshot().catch(() => undefined);
        return s?.ti["state"] === "running" && s.ti["try_number"] === 2 && s.history.length === 1
          ? s
          : undefined;
      },
      30_000,
      `try 2 to run\n${cluster.logs()}`,
    );
    const running = await snapshot();
    expect(running.history).toMatchObject([{ try_number: 1, state: "up_for_retry" }]);

    // A second runner for the running try cannot start it again.
    expect(await post("start", 2, runner2)).toEqual(conflict);
    // The old try (1) reports late: finish (either way), heartbeat and start are all refused.
    expect(await post("finish", 1, { state: "success" })).toEqual(conflict);
    expect(await post("finish", 1, { state: "failed", error: "late" })).toEqual(conflict);
    expect(await post("heartbeat", 1, runner2)).toEqual(conflict);
    expect(await post("start", 1, runner2)).toEqual(conflict);
    const afterLate = await snapshot();
    expect(withoutHeartbeat(afterLate)).toEqual(withoutHeartbeat(running));
    expect(afterLate.ti).toMatchObject({ state: "running", try_number: 2, pid: running.ti["pid"] });

    // The real runner still owns the try: it finishes it.
    writeFileSync(release, "");
    const state = await eventually(
      async () => {
        const s = await cluster.runState(DAG_ID, RUN_ID);
        return s === "success" || s === "failed" ? s : undefined;
      },
      30_000,
      `the end of the run\n${cluster.logs()}`,
    );
    expect(state).toBe("success");
    const done = await snapshot();
    expect(done.ti).toMatchObject({ state: "success", try_number: 2 });
    expect(done.history).toMatchObject([
      { try_number: 1, state: "up_for_retry" },
      { try_number: 2, state: "success" },
    ]);

    // Terminal → terminal is a no-op: a duplicate finish of the finished try, a late one of the
    // old try, and a start or heartbeat of either, are refused and change nothing at all.
    expect(await post("finish", 2, { state: "failed", error: "duplicate" })).toEqual(conflict);
    expect(await post("finish", 2, { state: "success" })).toEqual(conflict);
    expect(await post("finish", 1, { state: "failed", error: "late" })).toEqual(conflict);
    expect(await post("heartbeat", 2, runner2)).toEqual(conflict);
    expect(await post("start", 2, runner2)).toEqual(conflict);
    expect(await post("start", 1, runner2)).toEqual(conflict);
    expect(await snapshot()).toEqual(done);
  }, 60_000);
});
