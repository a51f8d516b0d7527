// DAG files for the engine benchmarks, written into a fresh folder. Tasks are TaskFlow no-ops
// (they run in a real runner and report through the execution API; nothing is short-cut).
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const HEAD = `import { dag, task } from "updraft";\nconst noop = task("noop", () => undefined);\n`;

export const BENCH_DAGS = {
  chain100: `${HEAD}
export default dag({ dagId: "bench_chain100", maxActiveTasks: 256 }, () => {
  let prev = noop.override({ taskId: "t0" })();
  for (let i = 1; i < 100; i++) prev = prev.before(noop.override({ taskId: \`t\${i}\` })());
});
`,
  fan200: `${HEAD}
export default dag({ dagId: "bench_fan200", maxActiveTasks: 256 }, () => {
  const root = noop.override({ taskId: "root" })();
  const join = noop.override({ taskId: "join" })();
  for (let i = 0; i < 200; i++) root.before(noop.override({ taskId: \`t\${i}\` })()).before(join);
});
`,
  throughput: `${HEAD}
export default dag({ dagId: "bench_throughput", maxActiveRuns: 100, maxActiveTasks: 256 }, () => {
  for (let i = 0; i < 100; i++) noop.override({ taskId: \`t\${i}\` })();
});
`,
  chain40_light: `import { dag, task } from "updraft";
function fibo(n: number): number { return n < 2 ? n : fibo(n - 1) + fibo(n - 2); }
const light = task("light", () => fibo(10));
export default dag({ dagId: "bench_chain40_light", maxActiveTasks: 256 }, () => {
  let prev = light.override({ taskId: "f0" })();
  for (let i = 1; i < 40; i++) prev = prev.before(light.override({ taskId: \`f\${i}\` })());
});
`,
};

export function writeBenchDags(folder) {
  mkdirSync(folder, { recursive: true });
  for (const [name, text] of Object.entries(BENCH_DAGS)) writeFileSync(join(folder, `${name}.ts`), text);
}
