// Running one try at a time through a real LocalExecutor against the execution API harness, and
// reading back what the server recorded. Runner, operator and storage tests all drive tries this
// way; the executor and API are created in each file's beforeAll, hence the getters.
import { existsSync, readFileSync } from "node:fs";
import type { ExecutorEvent, LocalExecutor } from "../../src/executors/index.js";
import type { TaskInstanceKey, TaskWorkload, Workload } from "../../src/model/execution-api.js";
import { API_TOKEN } from "../api/helpers.js";
import type { ExecutionApiHarness } from "./execution-api-harness.js";

export interface TryHarnessOptions {
  api: () => ExecutionApiHarness;
  executor: () => LocalExecutor;
  /** Every event the executor emitted (the file pushes them in its beforeAll). */
  events: readonly ExecutorEvent[];
  dagFile: string;
  runId: string;
  /** How long to wait for a try's end; object storage moves 100 MB and needs longer. */
  timeoutMs?: number;
}

export function tryHarness(o: TryHarnessOptions) {
  const key = (dagId: string, taskId: string, mapIndex = -1): TaskInstanceKey => ({
    dag_id: dagId,
    run_id: o.runId,
    task_id: taskId,
    map_index: mapIndex,
  });
  const readLog = (w: Workload) => (existsSync(w.log_path) ? readFileSync(w.log_path, "utf8") : "");

  /** The executor's event for `w`'s try, whether it already came or comes later. */
  function waitFor(w: Workload, timeoutMs = o.timeoutMs ?? 20_000): Promise<ExecutorEvent> {
    return new Promise((resolve, reject) => {
      const match = (e: ExecutorEvent) =>
        e.kind === w.kind &&
        e.ti.dag_id === w.ti.dag_id &&
        e.ti.task_id === w.ti.task_id &&
        e.ti.map_index === w.ti.map_index &&
        e.try_number === w.try_number;
      const found = o.events.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(
        () => reject(new Error(`no event for ${w.ti.task_id} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const off = o.executor().onEvent((e) => {
        if (!match(e)) return;
        clearTimeout(timer);
        off();
        resolve(e);
      });
    });
  }

  /** Queues the next try of a task and hands it to the executor. */
  async function start(dagId: string, taskId: string, mapIndex = -1): Promise<TaskWorkload> {
    const w = await o.api().queueTry(key(dagId, taskId, mapIndex), o.dagFile);
    o.executor().queueWorkload(w);
    return w;
  }

  /** Waits for `w`'s try to end and reads back its instance, history row, log and XCom. */
  async function finish(w: TaskWorkload) {
    await waitFor(w);
    const k = { ...w.ti };
    return {
      ti: await o.api().ti(k),
      history: await o.api().historyOf(k, w.try_number),
      log: readLog(w),
      xcom: (xcomKey?: string) => o.api().xcom(k, xcomKey),
    };
  }

  const run = async (dagId: string, taskId: string, mapIndex = -1) =>
    finish(await start(dagId, taskId, mapIndex));

  /** Waits until `w`'s log contains `text` (the task is running and got that far). */
  async function logShows(w: Workload, text: string, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (readLog(w).includes(text)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`${w.ti.task_id}: the log never showed ${JSON.stringify(text)}`);
  }

  return { key, readLog, waitFor, start, finish, run, logShows };
}

/** Creates a connection through the REST API, as a user would. */
export async function addConnection(api: ExecutionApiHarness, conn: Record<string, unknown>): Promise<void> {
  const res = await fetch(`${api.url}/api/v1/connections`, {
    method: "POST",
    headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify(conn),
  });
  if (!res.ok)
    throw new Error(`creating ${String(conn["connection_id"])}: ${res.status} ${await res.text()}`);
}
