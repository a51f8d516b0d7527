// `updraft tasks run DAG TASK RUN --workload-env UPDRAFT_WORKLOAD` (or `--workload-file F`): what a
// KubernetesExecutor worker Pod runs. The workload comes from the Pod (an environment variable,
// or a file of a mounted Secret); its token from the workload or from UPDRAFT_EXECUTION_TOKEN,
// which the Pod fills from its Secret. No database is opened: the runner reports through the
// execution API only. Task log lines also go to stdout, for `kubectl logs`.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { UpdraftError } from "../../common/errors.js";
import { loadConfig } from "../../config/index.js";
import { WorkloadSchema, type Workload } from "../../model/execution-api.js";
import { echoTaskLogsToStdout, runWorkloadInThisProcess } from "../../runner/index.js";

export const TOKEN_ENV = "UPDRAFT_EXECUTION_TOKEN";

/** Pauses before asking again for a start the server refused (see runPodWorkload). */
const RESTART_WAITS_MS = [500, 1000, 2000, 4000];

export interface WorkloadSource {
  workloadEnv?: string;
  workloadFile?: string;
}

function readWorkload(source: WorkloadSource): Workload {
  let text: string | undefined;
  let where: string;
  if (source.workloadFile !== undefined) {
    where = source.workloadFile;
    try {
      text = readFileSync(source.workloadFile, "utf8");
    } catch (err) {
      throw new UpdraftError("INVALID_WORKLOAD", `Cannot read the workload file ${where}: ${String(err)}.`);
    }
  } else {
    const name = source.workloadEnv ?? "UPDRAFT_WORKLOAD";
    where = `$${name}`;
    text = process.env[name];
    if (text === undefined || text === "")
      throw new UpdraftError(
        "INVALID_WORKLOAD",
        `${where} is not set: the worker Pod must carry the workload.`,
      );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new UpdraftError("INVALID_WORKLOAD", `The workload in ${where} is not JSON.`);
  }
  const obj = (typeof raw === "object" && raw !== null ? raw : {}) as Record<string, unknown>;
  // The token is not in the Pod's spec: it comes from the Secret.
  if (obj["token"] === undefined) {
    const token = process.env[TOKEN_ENV];
    if (token === undefined || token === "")
      throw new UpdraftError(
        "INVALID_WORKLOAD",
        `The workload in ${where} has no token and ${TOKEN_ENV} is not set: the Pod reads it from its Secret.`,
      );
    obj["token"] = token;
  }
  const parsed = WorkloadSchema.safeParse(obj);
  if (!parsed.success)
    throw new UpdraftError(
      "INVALID_WORKLOAD",
      `The workload in ${where} is not valid: ${parsed.error.message}`,
    );
  return parsed.data;
}

/**
 * Runs the workload the Pod carries. Exit code: 0 when the try succeeded or was skipped, or the
 * server refused the start (another runner has the try); 1 when the task failed (the Pod then
 * ends Failed, and delete_worker_pods_on_failure decides whether it stays); 3 when the execution
 * API could not be reached to start the try (the Pod fails, and the scheduler fails the try with
 * its retries instead of waiting for task_queued_timeout).
 */
export async function runPodWorkload(
  ids: { dagId: string; taskId: string; runId: string; mapIndex: number },
  source: WorkloadSource,
): Promise<void> {
  const workload = readWorkload(source);
  const ti = workload.ti;
  if (
    ti.dag_id !== ids.dagId ||
    ti.task_id !== ids.taskId ||
    ti.run_id !== ids.runId ||
    ti.map_index !== ids.mapIndex
  )
    throw new UpdraftError(
      "INVALID_WORKLOAD",
      `The workload is for ${ti.dag_id}.${ti.task_id} run ${ti.run_id} map index ${ti.map_index}, not the task instance on the command line.`,
    );
  echoTaskLogsToStdout();
  const config = loadConfig();
  const options = { cacheDir: join(config.home, "cache", "dags") };
  let outcome = await runWorkloadInThisProcess(workload, options);
  // A refused start may come in the moment a new scheduler sends the try back to scheduled to
  // queue it again under the same number (adoption after its scheduler died): the Pod holds the
  // try, and no other Pod is made for it. Asking again a few times is safe — the server starts a
  // try only while it is queued, i.e. nobody runs it — and spares it task_queued_timeout.
  for (const waitMs of RESTART_WAITS_MS) {
    if (workload.kind !== "task" || outcome.state !== null || outcome.startFailed !== undefined) break;
    await new Promise((r) => setTimeout(r, waitMs));
    outcome = await runWorkloadInThisProcess(workload, options);
  }
  const what = workload.kind === "task" ? `try ${workload.try_number}` : `${workload.callback} callback`;
  process.stdout.write(
    `Task ${ti.dag_id}.${ti.task_id} ${what}: ${outcome.state ?? (outcome.startFailed === undefined ? "not run (refused by the server)" : `not started: ${outcome.startFailed}`)}\n`,
  );
  if (outcome.state === "failed" || outcome.state === "up_for_retry") process.exitCode = 1;
  else if (outcome.startFailed !== undefined) process.exitCode = 3;
}
