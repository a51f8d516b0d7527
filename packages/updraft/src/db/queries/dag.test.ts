import { sql } from "kysely";
import { expect, it } from "vitest";
import { withTestDatabases } from "../../../test/db-testing.js";
import { getDag, listDags, saveDag, setDagPaused, deactivateMissingDags } from "./dag.js";
import { listImportErrors, setImportErrors } from "./import-error.js";

withTestDatabases("dag queries", (getDb) => {
  it("saves a DAG and skips the serialized write when the hash is unchanged", async () => {
    const { db } = getDb();
    const dag = { dagId: "etl", fileloc: "/dags/etl.ts", tags: ["a", "b"], isPausedAtCreation: true };
    const first = await saveDag(db, dag, { data: { tasks: [1, 2] }, dagHash: "h1" });
    expect(first.serializedChanged).toBe(true);
    expect(first.dag.tags).toEqual(["a", "b"]);
    expect(first.dag.is_paused).toBe(true);
    expect(first.dag.last_parsed_time).toBeInstanceOf(Date);
    expect((await saveDag(db, dag, { data: { tasks: [1, 2] }, dagHash: "h1" })).serializedChanged).toBe(
      false,
    );
    expect((await saveDag(db, dag, { data: { tasks: [3] }, dagHash: "h2" })).serializedChanged).toBe(true);
    const serialized = await sql<{ data: unknown; dag_hash: string }>`
      select data, dag_hash from serialized_dag where dag_id = 'etl'`.execute(db);
    expect(serialized.rows).toEqual([{ data: { tasks: [3] }, dag_hash: "h2" }]);
  });

  it("pauses and unpauses; an existing DAG keeps its paused flag on re-parse", async () => {
    const { db } = getDb();
    expect((await setDagPaused(db, "etl", false))?.is_paused).toBe(false);
    await saveDag(
      db,
      { dagId: "etl", fileloc: "/dags/etl.ts", isPausedAtCreation: true },
      { data: {}, dagHash: "h3" },
    );
    expect((await getDag(db, "etl"))?.is_paused).toBe(false);
    expect(await setDagPaused(db, "nope", true)).toBeUndefined();
    expect((await listDags(db, { paused: false })).map((d) => d.dag_id)).toEqual(["etl"]);
  });

  it("sets and clears import errors per file, flagging the file's DAGs", async () => {
    const { db } = getDb();
    await setImportErrors(db, "/dags/etl.ts", [{ stacktrace: "SyntaxError", line: 3 }]);
    await setImportErrors(db, "/dags/other.ts", [{ stacktrace: "boom" }]);
    expect((await getDag(db, "etl"))?.has_import_errors).toBe(true);
    expect(await listImportErrors(db, { filename: "/dags/etl.ts" })).toMatchObject([
      { stacktrace: "SyntaxError", line: 3 },
    ]);
    await setImportErrors(db, "/dags/etl.ts", []);
    expect((await getDag(db, "etl"))?.has_import_errors).toBe(false);
    expect((await listImportErrors(db)).map((e) => e.filename)).toEqual(["/dags/other.ts"]);
  });

  it("deactivates DAGs that vanished from their file", async () => {
    const { db } = getDb();
    await saveDag(db, { dagId: "etl2", fileloc: "/dags/etl.ts" }, { data: {}, dagHash: "x" });
    expect(await deactivateMissingDags(db, "/dags/etl.ts", ["etl"])).toEqual(["etl2"]);
    expect((await getDag(db, "etl2"))?.is_active).toBe(false);
  });
});
