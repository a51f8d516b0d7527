// webserver.maximum_page_limit caps every list's page, in the query (`limit`) and in a batch
// list's body (`page_limit`), without refusing the request; total_entries still counts them all.
import { afterAll, beforeAll, expect, it } from "vitest";
import { withTestDatabases } from "../db-testing.js";
import {
  API_TOKEN,
  makeDag,
  saveTestDag,
  startTestServer,
  type TestServer,
  triggerTestRun,
} from "./helpers.js";

withTestDatabases("maximum page limit", (getDb) => {
  let t: TestServer;
  const req = (method: "GET" | "POST", url: string, payload?: object) =>
    t.server.app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${API_TOKEN}` },
      ...(payload === undefined ? {} : { payload }),
    });

  beforeAll(async () => {
    const database = getDb();
    t = await startTestServer(database, { overrides: { "webserver.maximum_page_limit": 2 } });
    for (const key of ["k1", "k2", "k3"])
      await database.db.insertInto("variable").values({ key, val: "v" }).execute();
    await saveTestDag(database, makeDag("paged_dag", [{ id: "a" }]));
    for (const day of ["01", "02", "03"]) {
      await triggerTestRun(database, "paged_dag", `2024-05-${day}T00:00:00Z`);
    }
  });
  afterAll(async () => {
    await t.server.close();
  });

  it("gives a larger limit a page of the maximum size, and so the default too", async () => {
    for (const url of ["/api/v1/variables?limit=50", "/api/v1/variables"]) {
      const res = await req("GET", url);
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ total_entries: 3 });
      expect(res.json<{ variables: unknown[] }>().variables).toHaveLength(2);
    }
    const small = await req("GET", "/api/v1/variables?limit=1&offset=2");
    expect(small.json<{ variables: { key: string }[] }>().variables.map((v) => v.key)).toEqual(["k3"]);
  });

  it("caps a batch list's page_limit", async () => {
    const runs = await req("POST", "/api/v1/dags/~/dagRuns/list", { page_limit: 1000 });
    expect(runs.statusCode).toBe(200);
    expect(runs.json()).toMatchObject({ total_entries: 3 });
    expect(runs.json<{ dag_runs: unknown[] }>().dag_runs).toHaveLength(2);
    const tis = await req("POST", "/api/v1/dags/~/dagRuns/~/taskInstances/list", { page_limit: 1000 });
    expect(tis.json<{ task_instances: unknown[] }>().task_instances).toHaveLength(2);
  });

  it("still refuses a limit that is not a positive integer", async () => {
    expect((await req("GET", "/api/v1/variables?limit=0")).statusCode).toBe(400);
    expect((await req("GET", "/api/v1/variables?limit=2.5")).statusCode).toBe(400);
  });
});
