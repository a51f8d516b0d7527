// A task's `executor` option at parse (decision 0027): a name core.executor does not list makes
// its DAG file an import error (Airflow 2.10: "executor not configured") while the file's other
// DAGs and the other files load; an unknown name is refused with the known ones.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { parseDagFolder } from "../../src/processor/index.js";
import { cleanupTempDirs, tempDir } from "../helpers.js";

afterAll(() => cleanupTempDirs());

const MIXED = `
import { dag, task } from "updraft";
dag({ dagId: "mixed" }, () => {
  const light = task("light", () => 1);
  const heavy = task({ taskId: "heavy", executor: "KubernetesExecutor" }, (_c, n: number) => n + 1);
  heavy(light());
});
dag({ dagId: "plain_beside" }, () => {
  task("only", () => 1)();
});
`;
const TYPO = `
import { dag, task } from "updraft";
dag({ dagId: "typo", defaultArgs: { executor: "KubernetesExecuter" } }, () => {
  task("t", () => 1)();
});
`;
const PLAIN = `
import { dag, task } from "updraft";
dag({ dagId: "plain" }, () => {
  task("t", () => 1)();
});
`;

async function parse(executors: readonly string[] | undefined) {
  const folder = tempDir();
  writeFileSync(join(folder, "mixed.ts"), MIXED);
  writeFileSync(join(folder, "typo.ts"), TYPO);
  writeFileSync(join(folder, "plain.ts"), PLAIN);
  const bag = await parseDagFolder(folder, {
    cacheDir: tempDir(),
    timeoutSeconds: 10,
    parsingProcesses: 1,
    ...(executors === undefined ? {} : { executors }),
  });
  const errors = (file: string) =>
    bag.importErrors.filter((e) => e.filename === join(folder, file)).map((e) => e.error);
  return { dags: bag.dags.map((d) => d.dag_id).sort(), errors };
}

it("loads a DAG whose tasks name executors core.executor lists", async () => {
  const { dags, errors } = await parse(["LocalExecutor", "KubernetesExecutor"]);
  expect(dags).toEqual(["mixed", "plain", "plain_beside"]);
  expect(errors("mixed.ts")).toEqual([]);
  expect(errors("typo.ts")).toEqual([
    expect.stringMatching(
      /executor "KubernetesExecuter" is not an executor of Updraft\. Use one of LocalExecutor, KubernetesExecutor, QueueExecutor/,
    ),
  ]);
});

it("makes a task naming an executor core.executor does not list an import error of its file", async () => {
  const { dags, errors } = await parse(["LocalExecutor"]);
  expect(dags).toEqual(["plain", "plain_beside"]);
  expect(errors("mixed.ts")).toEqual([
    'Task "heavy" of DAG "mixed" names the executor "KubernetesExecutor", which is not configured: core.executor lists LocalExecutor. Add KubernetesExecutor to core.executor (UPDRAFT__CORE__EXECUTOR), or remove the task\'s executor option.',
  ]);
  expect(errors("plain.ts")).toEqual([]);
});
