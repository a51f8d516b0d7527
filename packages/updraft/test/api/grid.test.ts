// The UI's Grid endpoint: a page of runs newest first, one cell per (run, task) with a mapped
// task's instances counted by state, and the same permission as the task instance lists.
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import {
  API_TOKEN,
  makeDag,
  saveTestDag,
  seedUserWithToken,
  startTestServer,
  type TestServer,
  triggerTestRun,
} from "./helpers.js";

const DAG = makeDag("grid_dag", [{ id: "a" }, { id: "m", upstream: ["a"] }]);
// Groups: "outer" holds x and the nested "outer.inner", which holds y; z is in no group.
const GROUPED = (() => {
  const dag = makeDag(
    "grid_groups",
    [
      { id: "outer.x" },
      { id: "outer.inner.y", upstream: ["outer.x"] },
      { id: "z", upstream: ["outer.inner.y"] },
    ],
    {
      task_groups: [
        { group_id: "outer", parent_group_id: null, tooltip: "" },
        { group_id: "outer.inner", parent_group_id: "outer", tooltip: "" },
      ],
    },
  );
  const groupOf: Record<string, string> = { "outer.x": "outer", "outer.inner.y": "outer.inner" };
  return { ...dag, tasks: dag.tasks.map((t) => ({ ...t, task_group_id: groupOf[t.task_id] ?? null })) };
})();
const DATES = ["2024-05-01T00:00:00Z", "2024-05-02T00:00:00Z", "2024-05-03T00:00:00Z"];
const runId = (date: string) => `manual__${date.replace("Z", "+00:00")}`;

interface Grid {
  dag_runs: { dag_run_id: string; state: string; logical_date: string }[];
  total_entries: number;
  group_cells: {
    dag_run_id: string;
    group_id: string;
    state: string | null;
    states: Record<string, number>;
  }[];
  task_instances: {
    dag_run_id: string;
    task_id: string;
    state: string | null;
    try_number: number;
    duration_s: number | null;
    map_count: number;
    mapped_states: Record<string, number>;
  }[];
}

withTestDatabases("grid endpoint", (getDb) => {
  let t: TestServer;
  const get = (url: string, token = API_TOKEN) =>
    t.server.app.inject({ method: "GET", url, headers: { authorization: `Bearer ${token}` } });

  beforeAll(async () => {
    const database = getDb();
    await saveTestDag(database, DAG);
    await saveTestDag(database, GROUPED);
    t = await startTestServer(database, { apiToken: API_TOKEN });
    await seedUserWithToken(database, "grid-viewer", "Viewer", "grid-viewer-token");
    for (const logicalDate of DATES) {
      await triggerTestRun(database, "grid_dag", logicalDate);
    }
    const db = database.db;
    // The newest run: "a" succeeded on its second try, "m" mapped into 3 (one failed).
    const newest = runId(DATES[2]!);
    await db
      .updateTable("task_instance")
      .set({
        state: "success",
        try_number: 2,
        start_date: new Date("2024-05-03T00:01:00Z"),
        end_date: new Date("2024-05-03T00:02:00Z"),
      })
      .where("run_id", "=", newest)
      .where("task_id", "=", "a")
      .execute();
    await db.deleteFrom("task_instance").where("run_id", "=", newest).where("task_id", "=", "m").execute();
    await db
      .insertInto("task_instance")
      .values(
        [0, 1, 2].map((i) => ({
          dag_id: "grid_dag",
          run_id: newest,
          task_id: "m",
          map_index: i,
          run_logical_date: new Date(DATES[2]!),
          state: i === 1 ? ("failed" as const) : ("success" as const),
          try_number: 1,
          start_date: new Date(`2024-05-03T00:0${3 + i}:00Z`),
          end_date: new Date(`2024-05-03T00:0${4 + i}:00Z`),
        })),
      )
      .execute();
  });
  afterAll(async () => {
    await t.server.close();
  });

  it("pages runs newest first with the total", async () => {
    const res = await get("/api/v1/ui/grid/grid_dag?limit=2");
    expect(res.statusCode).toBe(200);
    const grid = res.json<Grid>();
    expect(grid.total_entries).toBe(3);
    expect(grid.dag_runs.map((r) => r.dag_run_id)).toEqual([runId(DATES[2]!), runId(DATES[1]!)]);
    expect(grid.task_instances.filter((c) => c.dag_run_id === runId(DATES[0]!))).toEqual([]);
    const next = (await get("/api/v1/ui/grid/grid_dag?limit=2&offset=2")).json<Grid>();
    expect(next.dag_runs.map((r) => r.dag_run_id)).toEqual([runId(DATES[0]!)]);
  });

  it("gives one cell per run and task; a mapped task's instances counted, failure first", async () => {
    const grid = (await get("/api/v1/ui/grid/grid_dag?limit=1")).json<Grid>();
    const cells = Object.fromEntries(grid.task_instances.map((c) => [c.task_id, c]));
    expect(grid.task_instances).toHaveLength(2);
    expect(cells["a"]).toMatchObject({
      state: "success",
      try_number: 2,
      map_count: 0,
      mapped_states: {},
      duration_s: 60,
    });
    expect(cells["m"]).toMatchObject({
      state: "failed",
      map_count: 3,
      mapped_states: { success: 2, failed: 1 },
      duration_s: 180,
    });
  });

  it("summarizes each task group per run: a task counts in its group and every enclosing one", async () => {
    const database = getDb();
    await triggerTestRun(database, "grid_groups", DATES[0]!);
    await database.db
      .updateTable("task_instance")
      .set({ state: "success" })
      .where("dag_id", "=", "grid_groups")
      .where("task_id", "=", "outer.x")
      .execute();
    await database.db
      .updateTable("task_instance")
      .set({ state: "failed" })
      .where("dag_id", "=", "grid_groups")
      .where("task_id", "=", "outer.inner.y")
      .execute();
    const grid = (await get("/api/v1/ui/grid/grid_groups")).json<Grid>();
    const groups = Object.fromEntries(grid.group_cells.map((g) => [g.group_id, g]));
    expect(Object.keys(groups).sort()).toEqual(["outer", "outer.inner"]);
    expect(groups["outer"]).toMatchObject({ state: "failed", states: { success: 1, failed: 1 } });
    expect(groups["outer.inner"]).toMatchObject({ state: "failed", states: { failed: 1 } });
    // A DAG without groups has none.
    expect((await get("/api/v1/ui/grid/grid_dag")).json<Grid>().group_cells).toEqual([]);
  });

  it("shows task instances that have no state yet as null", async () => {
    const grid = (await get("/api/v1/ui/grid/grid_dag?limit=1&offset=1")).json<Grid>();
    expect(grid.task_instances.map((c) => [c.task_id, c.state, c.map_count])).toEqual(
      expect.arrayContaining([
        ["a", null, 0],
        ["m", null, 0],
      ]),
    );
  });

  it("is readable by a Viewer, 404 for an unknown DAG, 400 for a bad page", async () => {
    expect((await get("/api/v1/ui/grid/grid_dag", "grid-viewer-token")).statusCode).toBe(200);
    const missing = await get("/api/v1/ui/grid/nope");
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: "DAG_NOT_FOUND" });
    expect((await get("/api/v1/ui/grid/grid_dag?limit=0")).statusCode).toBe(400);
  });
});
