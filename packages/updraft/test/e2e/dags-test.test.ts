// `updraft dags test`: one whole DAG run in the foreground, without a scheduler process.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { EXAMPLES, updraft } from "./helpers.js";

const env = { UPDRAFT_HOME: mkdtempSync(join(tmpdir(), "updraft-e2e-dagstest-")) };

describe("updraft dags test", () => {
  test("runs data_pipeline_lab and prints the aggregation and the notification", () => {
    const r = updraft(["dags", "test", "data_pipeline_lab", "--dags-folder", EXAMPLES], env, 180_000);
    expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
    expect(r.stdout).toContain("Aggregation results");
    expect(r.stdout).toContain("PIPELINE COMPLETE - NOTIFICATION");
    expect(r.stdout).toContain("Notification sent successfully!");
    expect(r.stdout).toMatch(/DAG run manual__\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00: success/);
    for (const task of ["generate_data", "validate", "aggregate", "notify"])
      expect(r.stdout).toMatch(new RegExp(`${task}\\s+-1\\s+success`));
  }, 200_000);

  test("exits 1 and shows the failing task's error when the run fails", () => {
    const folder = mkdtempSync(join(tmpdir(), "updraft-e2e-failing-"));
    writeFileSync(
      join(folder, "failing.ts"),
      `import { dag, task } from "updraft";
const boom = task("boom", () => { throw new Error("the warehouse is on fire"); });
const after = task("after", () => "never");
export default dag({ dagId: "failing" }, () => { boom().before(after()); });
`,
    );
    const r = updraft(["dags", "test", "failing", "--dags-folder", folder], env, 180_000);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain("the warehouse is on fire");
    expect(r.stdout).toMatch(/boom\s+-1\s+failed/);
    expect(r.stdout).toMatch(/after\s+-1\s+upstream_failed/);
  }, 200_000);

  test("an unknown DAG is a clear error", () => {
    const r = updraft(["dags", "test", "nope", "--dags-folder", EXAMPLES], env, 120_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('DAG "nope" was not found');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  }, 150_000);
});
