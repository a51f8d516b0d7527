import { expect, it } from "vitest";
import { withTestDatabases } from "../../../test/db-testing.js";
import { createDagRun, getDagRun, listDagRuns, transitionDagRun } from "./dag-run.js";

const DAY = new Date("2024-01-01T00:00:00Z");

withTestDatabases("dag runs", (getDb) => {
  it("creates a run with defaults and reads it back", async () => {
    const { db } = getDb();
    const run = await createDagRun(db, {
      dagId: "d",
      runId: "scheduled__2024-01-01",
      runType: "scheduled",
      logicalDate: DAY,
      conf: { list: [1, 2], nested: { a: "b" } },
    });
    expect(run.state).toBe("queued");
    expect(run.conf).toEqual({ list: [1, 2], nested: { a: "b" } });
    expect(run.logical_date?.toISOString()).toBe(DAY.toISOString());
    expect(run.queued_at).toBeInstanceOf(Date);
    expect((await getDagRun(db, { dagId: "d", runId: run.run_id }))?.id).toBe(run.id);
  });

  it("allows one run per logical date, even when created concurrently", async () => {
    const { db } = getDb();
    const date = new Date("2024-02-01T00:00:00Z");
    const attempts = await Promise.allSettled(
      [1, 2, 3, 4].map((i) =>
        createDagRun(db, { dagId: "d", runId: `r${i}`, runType: "scheduled", logicalDate: date }),
      ),
    );
    expect(attempts.filter((a) => a.status === "fulfilled")).toHaveLength(1);
    for (const a of attempts) {
      if (a.status === "rejected") expect(a.reason).toMatchObject({ code: "DAG_RUN_EXISTS" });
    }
    await expect(
      createDagRun(db, { dagId: "d", runId: "scheduled__2024-01-01", runType: "manual" }),
    ).rejects.toMatchObject({
      code: "DAG_RUN_EXISTS",
    });
    // Runs without a logical date never collide on it.
    await createDagRun(db, { dagId: "d", runId: "m1", runType: "manual" });
    await createDagRun(db, { dagId: "d", runId: "m2", runType: "manual" });
  });

  it("guards transitions: of two concurrent updates exactly one wins", async () => {
    const { db } = getDb();
    const key = { dagId: "d", runId: "m1" };
    const results = await Promise.all([
      transitionDagRun(db, key, { from: ["queued"], to: "running" }),
      transitionDagRun(db, key, { from: ["queued"], to: "running" }),
    ]);
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    const running = results.find((r) => r !== undefined);
    expect(running?.start_date).toBeInstanceOf(Date);
    const done = await transitionDagRun(db, key, { from: ["running"], to: "success" });
    expect(done?.end_date).toBeInstanceOf(Date);
    expect(await transitionDagRun(db, key, { from: ["running"], to: "failed" })).toBeUndefined();
  });

  it("lists runs", async () => {
    const { db } = getDb();
    const runs = await listDagRuns(db, { dagId: "d", states: ["queued"] });
    expect(runs.length).toBeGreaterThan(0);
    expect(runs.every((r) => r.state === "queued")).toBe(true);
    expect(await listDagRuns(db, { dagId: "d", limit: 1 })).toHaveLength(1);
  });
});
