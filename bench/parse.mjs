// Workload "parse": how long the DAG processor takes to parse a large DAGs folder from a cold
// cache, and to re-parse one changed file with a warm DagFileProcessor (what the scheduler's
// processor does all day). Usage: npm run bench -- parse [--files N] [--reps N]
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { DagFileProcessor } from "../packages/updraft/dist/processor/index.js";

const TASKS_PER_DAG = 10;

function dagSource(i) {
  const id = `bench_${String(i).padStart(4, "0")}`;
  return `import { BashOperator, EmptyOperator, dag, task } from "updraft";

export default dag({ dagId: "${id}", schedule: "@daily", startDate: "2026-01-01", tags: ["bench", "group_${i % 10}"] }, () => {
  const start = new EmptyOperator({ taskId: "start" });
  const extractA = new BashOperator({ taskId: "extract_a", bashCommand: "echo extract a {{ ds }}" });
  const extractB = new BashOperator({ taskId: "extract_b", bashCommand: "echo extract b {{ ds }}" });
  const extractC = new BashOperator({ taskId: "extract_c", bashCommand: "echo extract c {{ ds }}" });
  const load = new BashOperator({ taskId: "load", bashCommand: "echo load ${i}" });
  const report = new BashOperator({ taskId: "report", bashCommand: "echo report" });
  const end = new EmptyOperator({ taskId: "end" });
  const double = task("double", (_ctx, n: number) => n * 2);
  const triple = task("triple", (_ctx, n: number) => n * 3);
  const sum = task("sum", (_ctx, a: number, b: number) => a + b);
  start.before(extractA);
  start.before(extractB);
  start.before(extractC);
  extractA.before(load);
  extractB.before(load);
  extractC.before(load);
  load.before(report);
  report.before(end);
  sum(double(${i}), triple(${i}));
});
`;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function main(argv = process.argv.slice(2)) {
  const { values } = parseArgs({
    args: argv,
    options: { files: { type: "string", default: "1000" }, reps: { type: "string", default: "3" } },
  });
  const files = Number(values.files);
  const reps = Number(values.reps);
  const root = mkdtempSync(join(tmpdir(), "updraft-bench-parse-"));
  const dags = join(root, "dags");
  for (let i = 0; i < files; i++) {
    const dir = join(dags, `team_${i % 20}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `dag_${String(i).padStart(4, "0")}.ts`), dagSource(i));
  }
  const changedFile = join(dags, "team_7", "dag_0007.ts");
  const cold = [];
  const changed = [];
  try {
    for (let rep = 0; rep < reps; rep++) {
      const cacheDir = join(root, `cache_${rep}`);
      const processor = new DagFileProcessor(dags, { cacheDir });
      try {
        const t0 = performance.now();
        const first = await processor.refresh();
        cold.push(performance.now() - t0);
        if (first.stats.files !== files || processor.dags.length !== files) {
          const errors = processor.importErrors.slice(0, 3).map((e) => `${e.filename}: ${e.error}`);
          throw new Error(
            `expected ${files} DAGs, got ${processor.dags.length}. First errors:\n${errors.join("\n")}`,
          );
        }
        for (let k = 0; k < 3; k++) {
          writeFileSync(changedFile, dagSource(7).replace("echo report", `echo report ${rep}.${k}`));
          const t1 = performance.now();
          const next = await processor.refresh();
          changed.push(performance.now() - t1);
          if (next.parsedFiles.length !== 1) {
            throw new Error(`expected one re-parsed file, got ${JSON.stringify(next.parsedFiles)}`);
          }
        }
      } finally {
        await processor.close();
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
  const result = {
    workload: "parse",
    cold_ms: Math.round(median(cold)),
    changed_file_ms: Math.round(median(changed) * 10) / 10,
    files,
    tasks_per_dag: TASKS_PER_DAG,
    reps,
  };
  console.log(JSON.stringify(result));
  console.log(
    `parse: ${files} DAG files × ${TASKS_PER_DAG} tasks: cold ${result.cold_ms} ms (median of ${reps}: ${cold.map((c) => Math.round(c)).join(", ")}), one changed file ${result.changed_file_ms} ms (median of ${changed.length})`,
  );
}
