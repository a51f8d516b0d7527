// `updraft dags test` on a DAG whose tasks name other executors (decision 0027 §8): as Airflow's
// dag.test(), every task runs in this process's runners, and the parse does not refuse the DAG
// for naming an executor core.executor (here the default, LocalExecutor alone) does not list.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, test } from "vitest";
import { updraft } from "./helpers.js";

test("runs a task that names the KubernetesExecutor locally, with the rest", () => {
  const env = { UPDRAFT_HOME: mkdtempSync(join(tmpdir(), "updraft-e2e-dagstest-exec-")) };
  const folder = mkdtempSync(join(tmpdir(), "updraft-e2e-mixed-"));
  writeFileSync(
    join(folder, "mixed.ts"),
    `import { dag, task } from "updraft";
const light = task("light", () => 2);
const heavy = task({ taskId: "heavy", executor: "KubernetesExecutor" }, (_c, n: number) => {
  console.log("heavy ran here with", n);
  return n * 21;
});
export default dag({ dagId: "mixed_dags_test" }, () => { heavy(light()); });
`,
  );
  const r = updraft(["dags", "test", "mixed_dags_test", "--dags-folder", folder], env, 180_000);
  expect(r.code, r.stderr + r.stdout.slice(-2000)).toBe(0);
  expect(r.stdout).toContain("heavy ran here with 2");
  expect(r.stdout).toMatch(/heavy\s+-1\s+success/);
  expect(r.stdout).toMatch(/light\s+-1\s+success/);
}, 200_000);
