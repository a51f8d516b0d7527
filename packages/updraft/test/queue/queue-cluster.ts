// A reliability Cluster (PostgreSQL, api-server, scheduler) whose scheduler runs the QueueExecutor,
// plus `updraft worker` processes on a Redis key prefix of its own.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "../e2e/helpers.js";
import { Cluster, Daemon } from "../reliability/harness.js";
import { TEST_REDIS_URL, testKeyPrefix } from "../redis-testing.js";

export const WORKER_HEARTBEAT_S = 1;
export const WORKER_STALE_AFTER_S = 3;

export async function queueCluster(redisUrl: string = TEST_REDIS_URL, extra: NodeJS.ProcessEnv = {}) {
  const cluster = await Cluster.create({
    UPDRAFT__CORE__EXECUTOR: "QueueExecutor",
    UPDRAFT__QUEUE__BROKER_URL: redisUrl,
    UPDRAFT__QUEUE__KEY_PREFIX: testKeyPrefix(),
    UPDRAFT__WORKER__HEARTBEAT_INTERVAL: String(WORKER_HEARTBEAT_S),
    UPDRAFT__WORKER__STALE_AFTER: String(WORKER_STALE_AFTER_S),
    UPDRAFT__WORKER__SERVER_PORT: "0",
    ...extra,
  });
  return cluster;
}

/** Starts `updraft worker …args` and waits until it takes work. */
export async function startWorker(
  cluster: Cluster,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<Daemon> {
  const d = new Daemon(["worker", ...args], { ...cluster.env, ...env });
  cluster.daemons.push(d);
  await d.waitFor(/is taking work/, 30_000);
  return d;
}

/** Resolves with the worker's exit code (it must exit by itself within `timeoutMs`). */
export function exitOf(d: Daemon, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    if (d.child.exitCode !== null || d.child.signalCode !== null) return resolve(d.child.exitCode);
    const timer = setTimeout(() => reject(new Error(`the worker did not exit:\n${d.output}`)), timeoutMs);
    d.child.once("exit", (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

export function markerLines(marker: string, prefix = ""): string[] {
  return (existsSync(marker) ? readFileSync(marker, "utf8").split("\n") : []).filter(
    (l) => l !== "" && l.startsWith(prefix),
  );
}

export async function runSucceeds(cluster: Cluster, dagId: string, runId: string, timeoutMs = 40_000) {
  return eventually(
    async () => {
      const s = await cluster.runState(dagId, runId);
      if (s === "failed")
        throw new Error(`${dagId} failed: ${await cluster.summary(dagId, runId)}\n${cluster.logs()}`);
      return s === "success" ? s : undefined;
    },
    timeoutMs,
    `${dagId}/${runId} to succeed\n${cluster.logs()}`,
  );
}

export const MARKER_DAGS = (marker: string): Record<string, string> => ({
  "two_queues.ts": `
import { appendFileSync } from "node:fs";
import { dag, task } from "updraft";
const mark = (name: string) => appendFileSync(${JSON.stringify(marker)}, name + " " + process.env.WORKER_TAG + "\\n");
export default dag({ dagId: "two_queues", schedule: null, startDate: "2026-01-01" }, () => {
  const a = task({ taskId: "a" }, () => mark("a"))();
  const b = task({ taskId: "b", queue: "gpu" }, () => mark("b"))();
  const c = task({ taskId: "c" }, () => mark("c"))();
  a.before(b);
  b.before(c);
});
`,
  "victim.ts": `
import { appendFileSync } from "node:fs";
import { dag, task } from "updraft";
export default dag({ dagId: "victim", schedule: null, startDate: "2026-01-01" }, () => {
  task({ taskId: "victim", queue: "victim", retries: 1, retryDelay: 0 }, async (ctx) => {
    appendFileSync(${JSON.stringify(marker)}, "victim " + ctx.ti.try_number + " " + process.env.WORKER_TAG + "\\n");
    if (ctx.ti.try_number === 1) await new Promise((resolve) => setTimeout(resolve, 120_000));
  })();
});
`,
  "drain.ts": `
import { appendFileSync } from "node:fs";
import { dag, task } from "updraft";
export default dag({ dagId: "drain", schedule: null, startDate: "2026-01-01" }, () => {
  for (const id of ["s1", "s2"])
    task({ taskId: id, queue: "drain" }, async () => {
      appendFileSync(${JSON.stringify(marker)}, "drain start " + id + " " + process.env.WORKER_TAG + "\\n");
      await new Promise((resolve) => setTimeout(resolve, 3000));
      appendFileSync(${JSON.stringify(marker)}, "drain end " + id + " " + process.env.WORKER_TAG + "\\n");
    })();
});
`,
  "nostart.ts": `
import { appendFileSync } from "node:fs";
import { dag, task } from "updraft";
export default dag({ dagId: "nostart", schedule: null, startDate: "2026-01-01" }, () => {
  task({ taskId: "once", queue: "nostart", retries: 0 }, (ctx) => {
    appendFileSync(${JSON.stringify(marker)}, "nostart " + ctx.ti.try_number + " " + process.env.WORKER_TAG + "\\n");
  })();
});
`,
  "nostart_twice.ts": `
import { appendFileSync } from "node:fs";
import { dag, task } from "updraft";
export default dag({ dagId: "nostart_twice", schedule: null, startDate: "2026-01-01" }, () => {
  task({ taskId: "once", queue: "nostart_twice", retries: 0 }, (ctx) => {
    appendFileSync(${JSON.stringify(marker)}, "nostart_twice " + ctx.ti.try_number + " " + process.env.WORKER_TAG + "\\n");
  })();
});
`,
  "deferred_on_queue.ts": `
import { appendFileSync } from "node:fs";
import { TimeDeltaSensor, dag, task } from "updraft";
export default dag({ dagId: "deferred_on_queue", schedule: null, startDate: "2026-01-01" }, () => {
  const wait = new TimeDeltaSensor({ taskId: "wait", delta: "3s", deferrable: true });
  const after = task({ taskId: "after" }, () => {
    appendFileSync(${JSON.stringify(marker)}, "after " + process.env.WORKER_TAG + "\\n");
  })();
  wait.before(after);
});
`,
  "lonely.ts": `
import { dag, task } from "updraft";
export default dag({ dagId: "lonely", schedule: null, startDate: "2026-01-01" }, () => {
  task({ taskId: "on_gpu2", queue: "gpu2" }, () => "never run: no worker serves gpu2")();
});
`,
  "wide.ts": `
import { appendFileSync, readFileSync } from "node:fs";
import { dag, task } from "updraft";
const MARKER = ${JSON.stringify(marker)};
const started = () => readFileSync(MARKER, "utf8").split("\\n").filter((l) => l.startsWith("wide start")).length;
export default dag({ dagId: "wide", schedule: null, startDate: "2026-01-01" }, () => {
  // Each task ends only once all eight have started: the worker must run eight at once.
  for (let i = 1; i <= 8; i++)
    task({ taskId: "w" + i, queue: "wide", executionTimeout: "60s" }, async () => {
      appendFileSync(MARKER, "wide start w" + i + "\\n");
      while (started() < 8) await new Promise((resolve) => setTimeout(resolve, 100));
    })();
});
`,
  "recycle.ts": `
import { appendFileSync } from "node:fs";
import { dag, task } from "updraft";
export default dag({ dagId: "recycle", schedule: null, startDate: "2026-01-01" }, () => {
  for (const id of ["r1", "r2", "r3", "r4"])
    task({ taskId: id, queue: "recycle" }, () => {
      appendFileSync(${JSON.stringify(marker)}, "recycle " + id + " " + process.env.WORKER_TAG + " " + process.pid + "\\n");
    })();
});
`,
});

export { join };

/** The pids of a process's children (a worker's runner processes). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync("pgrep", ["-P", String(pid)], { encoding: "utf8" })
      .split("\n")
      .filter((l) => l.trim() !== "")
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there is none
  }
}
