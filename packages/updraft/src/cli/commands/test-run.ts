// `dags test`, `tasks test` and `tasks run`: run work in the foreground. The tests run the real
// engine (API server, scheduler, LocalExecutor) on a throwaway in-memory database, so a DAG
// behaves exactly as it will in production, without touching the metadata database.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { UpdraftError } from "../../common/errors.js";
import { signToken } from "../../common/signed-token.js";
import { loadConfig } from "../../config/index.js";
import {
  generateFernetKey,
  getDagRun,
  getTaskInstance,
  inTransaction,
  listTaskInstances,
  markOtherTaskInstancesSuccess,
  openDatabase,
  openMemoryDatabase,
  type Executor,
  type TaskInstanceRow,
} from "../../db/index.js";
import type { TaskWorkload } from "../../model/execution-api.js";
import { taskLogRelativePath } from "../../model/log-path.js";
import { loadDag, setDagPaused, triggerDagRun } from "../../services/index.js";
import { findStandalone } from "../forward.js";
import { cliConfig, standaloneSecrets } from "../standalone-files.js";
import type { Engine } from "../engine.js";
import { terminalLogger } from "../logger.js";
import { formatTable } from "../output.js";
import { dagsSettings } from "../settings.js";

const FINISHED_RUN = new Set(["success", "failed"]);

interface ForegroundRun {
  engine: Engine;
  logFolder: string;
  /** Stops the engine and closes the in-memory database (an open PGlite keeps the process alive). */
  stop(): Promise<void>;
}

/** An engine on a fresh in-memory database, logs in a temp folder, scheduled runs disabled. */
async function foregroundEngine(dagsFolderOption: string | undefined, dagId: string): Promise<ForegroundRun> {
  const base = loadConfig();
  const logFolder = mkdtempSync(join(tmpdir(), "updraft-test-logs-"));
  const config = loadConfig({
    overrides: {
      "logging.base_log_folder": logFolder,
      "core.dags_are_paused_at_creation": true,
      // A test runs here, in this process's runners, whatever executor the scheduler uses.
      "core.executor": "LocalExecutor",
      ...(base.core.fernet_key ? {} : { "core.fernet_key": generateFernetKey() }),
    },
  });
  const { dagsFolder } = dagsSettings(dagsFolderOption);
  const database = await openMemoryDatabase(join(config.home, "cache"));
  // Loaded here, not at the top: the engine brings Fastify and more, which other commands skip.
  const { startEngine } = await import("../engine.js");
  const engine = await startEngine({
    config,
    dagsFolder,
    database,
    parts: { api: true, scheduler: true, processor: true, triggerer: true },
    logger: terminalLogger(process.env.UPDRAFT_LOG_LEVEL ?? "warn"),
    secretKey: randomBytes(32).toString("base64url"),
    port: 0,
    host: "127.0.0.1",
    // The DAG must be in the database before the check below.
    awaitFirstParse: true,
    // Tasks naming another executor (KubernetesExecutor) run here too.
    localOnly: true,
  });
  const db = engine.database.db;
  const stop = async (): Promise<void> => {
    await engine.stop();
    await database.close();
  };
  if (
    (await db.selectFrom("dag").select("dag_id").where("dag_id", "=", dagId).executeTakeFirst()) === undefined
  ) {
    await stop();
    throw new UpdraftError(
      "DAG_NOT_FOUND",
      `DAG "${dagId}" was not found in ${dagsFolder}. Run \`updraft dags list\` to see the DAG ids, or \`updraft dags list-import-errors\` if its file failed to import.`,
    );
  }
  // Only the run this command creates: no scheduled runs of any DAG.
  await db.updateTable("dag").set({ next_dagrun_create_after: null }).execute();
  await setDagPaused(db, dagId, false);
  return { engine, logFolder, stop };
}

function printLog(logFolder: string, ti: TaskInstanceRow): void {
  const file = join(logFolder, taskLogRelativePath(ti, Math.max(1, ti.try_number)));
  const label = `${ti.task_id}${ti.map_index >= 0 ? `[${ti.map_index}]` : ""}`;
  process.stdout.write(
    `\n── ${label} (try ${ti.try_number}) ${"─".repeat(Math.max(0, 60 - label.length))}\n`,
  );
  process.stdout.write(existsSync(file) ? readFileSync(file, "utf8") : "(no log: the task did not start)\n");
}

/** Waits until `done()` holds, printing each task's log once it finishes. */
async function follow(
  run: ForegroundRun,
  dagId: string,
  runId: string,
  done: () => Promise<boolean>,
): Promise<TaskInstanceRow[]> {
  const printed = new Set<string>();
  const db = run.engine.database.db;
  for (;;) {
    const finished = await done();
    const tis = await listTaskInstances(db, { dagId, runId });
    const byEnd = [...tis].sort(
      (a, b) => (a.end_date?.getTime() ?? Infinity) - (b.end_date?.getTime() ?? Infinity),
    );
    for (const ti of byEnd) {
      const key = `${ti.task_id}|${ti.map_index}|${ti.try_number}|${ti.state}`;
      const terminal =
        ti.state !== null &&
        ["success", "failed", "skipped", "upstream_failed", "up_for_retry"].includes(ti.state);
      if (terminal && !printed.has(key) && ti.try_number > 0) {
        printed.add(key);
        printLog(run.logFolder, ti);
      }
    }
    if (finished) return tis;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function summary(tis: TaskInstanceRow[]): string {
  return formatTable(
    ["task_id", "map_index", "state", "try_number", "duration_s"],
    tis.map((ti) => [
      ti.task_id,
      String(ti.map_index),
      ti.state ?? "none",
      String(ti.try_number),
      ti.duration === null ? "" : ti.duration.toFixed(2),
    ]),
  );
}

/**
 * `tasks test` ignores dependencies, as Airflow's does: every other task instance of the run is
 * marked success so that the scheduler starts only `taskId`, by one guarded statement that
 * changes only instances still in state none (as the run created them). Called in the
 * transaction that creates the run, no scheduler can have reached them, so an instance found in
 * another state means something else wrote to the run: TASKS_TEST_RUN_CHANGED, and the caller's
 * transaction (the run with it) is rolled back rather than running a task beside others.
 */
export async function markOtherTasksDone(
  db: Executor,
  run: { dagId: string; runId: string },
  taskId: string,
): Promise<number> {
  const { marked, untouched } = await markOtherTaskInstancesSuccess(db, run, taskId);
  if (untouched.length > 0) {
    const found = untouched
      .map((t) => `${t.taskId}${t.mapIndex >= 0 ? `[${t.mapIndex}]` : ""} is ${t.state}`)
      .join(", ");
    throw new UpdraftError(
      "TASKS_TEST_RUN_CHANGED",
      `tasks test could not mark the other tasks of run ${run.runId} as done: ${found}, though the task instances of a new run have no state yet. Something else changed this throwaway run, so nothing was run; run the command again.`,
      { details: { dag_id: run.dagId, run_id: run.runId, task_id: taskId, untouched } },
    );
  }
  return marked;
}

export function registerTestRunCommands(program: Command): void {
  const dags = program.commands.find((c) => c.name() === "dags");
  const tasks = program.commands.find((c) => c.name() === "tasks");
  if (!dags || !tasks) throw new Error("the dags and tasks command groups must be registered first");

  dags
    .command("test")
    .description("run one DAG run in the foreground on a throwaway database and print every task's log")
    .argument("<dag_id>")
    .argument("[logical_date]", "ISO date or timestamp (default: now)")
    .option("--conf <json>", "conf of the run (checked against the DAG's params)")
    .option("--dags-folder <dir>", "folder of DAG files")
    .action(
      async (
        dagId: string,
        logicalDate: string | undefined,
        opts: { conf?: string; dagsFolder?: string },
      ) => {
        let conf: unknown = {};
        if (opts.conf !== undefined) {
          try {
            conf = JSON.parse(opts.conf);
          } catch (err) {
            throw new UpdraftError("INVALID_CONF", `--conf is not valid JSON: ${(err as Error).message}.`);
          }
        }
        const run = await foregroundEngine(opts.dagsFolder, dagId);
        try {
          const db = run.engine.database.db;
          const dagRun = await triggerDagRun(
            db,
            // A manual run with Airflow's generated id, as Airflow's `dags test` creates.
            { dagId, conf, logicalDate: logicalDate ?? null },
            { events: run.engine.events },
          );
          const tis = await follow(run, dagId, dagRun.run_id, async () => {
            const r = await getDagRun(db, { dagId, runId: dagRun.run_id });
            return r !== undefined && FINISHED_RUN.has(r.state);
          });
          const final = await getDagRun(db, { dagId, runId: dagRun.run_id });
          process.stdout.write(`\nDAG run ${dagRun.run_id}: ${final?.state ?? "unknown"}\n${summary(tis)}`);
          if (final?.state !== "success") process.exitCode = 1;
        } finally {
          await run.stop();
        }
      },
    );

  tasks
    .command("test")
    .description("run one task in the foreground on a throwaway database (upstream tasks are not run)")
    .argument("<dag_id>")
    .argument("<task_id>")
    .argument("[logical_date]", "ISO date or timestamp (default: now)")
    .option("--dags-folder <dir>", "folder of DAG files")
    .action(
      async (
        dagId: string,
        taskId: string,
        logicalDate: string | undefined,
        opts: { dagsFolder?: string },
      ) => {
        const run = await foregroundEngine(opts.dagsFolder, dagId);
        try {
          const db = run.engine.database.db;
          // One transaction: the scheduler sees the run only once the other tasks are done (their
          // XComs do not exist), and an unknown task leaves no run behind.
          const dagRun = await inTransaction(db, async (trx) => {
            const created = await triggerDagRun(trx, {
              dagId,
              logicalDate: logicalDate ?? null,
              runId: `test__${new Date().toISOString()}`,
            });
            const all = await listTaskInstances(trx, { dagId, runId: created.run_id });
            if (!all.some((t) => t.task_id === taskId)) {
              throw new UpdraftError(
                "TASK_NOT_FOUND",
                `DAG "${dagId}" has no task "${taskId}". Tasks: ${[...new Set(all.map((t) => t.task_id))].join(", ")}.`,
              );
            }
            await markOtherTasksDone(trx, { dagId, runId: created.run_id }, taskId);
            return created;
          });
          run.engine.events.emit({ type: "ti_state_changed", dag_id: dagId, run_id: dagRun.run_id });
          const isDone = (t: TaskInstanceRow) =>
            t.task_id === taskId &&
            ["success", "failed", "skipped", "upstream_failed"].includes(t.state ?? "");
          const tis = await follow(run, dagId, dagRun.run_id, async () => {
            const mine = (await listTaskInstances(db, { dagId, runId: dagRun.run_id })).filter(
              (t) => t.task_id === taskId,
            );
            return mine.length > 0 && mine.every(isDone);
          });
          const mine = tis.filter((t) => t.task_id === taskId);
          process.stdout.write(`\n${summary(mine)}`);
          if (!mine.every((t) => t.state === "success" || t.state === "skipped")) process.exitCode = 1;
        } finally {
          await run.stop();
        }
      },
    );
}

interface TasksRunOptions {
  mapIndex: string;
  workloadEnv?: string;
  workloadFile?: string;
}

/**
 * `updraft tasks run`: runs one queued try of a task instance in this process, as an executor's
 * runner would (Airflow's `tasks run`). The try must be queued: the scheduler decides what runs.
 */
export function registerTasksRunCommand(program: Command): void {
  const tasks = program.commands.find((c) => c.name() === "tasks");
  if (!tasks) throw new Error("the tasks command group must be registered first");
  tasks
    .command("run")
    .description("run a queued task instance try in this process (what an executor's runner does)")
    .argument("<dag_id>")
    .argument("<task_id>")
    .argument("<run_id>")
    .option("--map-index <n>", "map index of a mapped task instance", "-1")
    .option(
      "--workload-env <name>",
      "read the workload (JSON) from this environment variable instead of the database, as a KubernetesExecutor Pod does",
    )
    .option("--workload-file <path>", "read the workload (JSON) from this file instead of the database")
    .action(async (dagId: string, taskId: string, runId: string, opts: TasksRunOptions) => {
      const mapIndex = Number(opts.mapIndex);
      if (!Number.isInteger(mapIndex) || mapIndex < -1) {
        throw new UpdraftError(
          "INVALID_MAP_INDEX",
          `--map-index ${opts.mapIndex} is not -1 or a whole number ≥ 0.`,
        );
      }
      if (opts.workloadEnv !== undefined || opts.workloadFile !== undefined) {
        // A worker Pod: never the database (it has no credentials for it).
        const { runPodWorkload } = await import("./tasks-run-workload.js");
        await runPodWorkload(
          { dagId, taskId, runId, mapIndex },
          {
            ...(opts.workloadEnv === undefined ? {} : { workloadEnv: opts.workloadEnv }),
            ...(opts.workloadFile === undefined ? {} : { workloadFile: opts.workloadFile }),
          },
        );
        return;
      }
      const config = cliConfig();
      const secretKey = config.api.secret_key ?? standaloneSecrets(config.home).secret_key;
      const apiUrl = config.core.execution_api_server_url ?? findStandalone(config.home)?.url;
      if (!apiUrl) {
        throw new UpdraftError(
          "EXECUTION_API_UNKNOWN",
          "tasks run reports through the execution API: set core.execution_api_server_url (UPDRAFT__CORE__EXECUTION_API_SERVER_URL) or start updraft standalone.",
        );
      }
      const database = await openDatabase(config);
      let workload: TaskWorkload;
      try {
        const ti = await getTaskInstance(database.db, { dagId, runId, taskId, mapIndex });
        if (!ti) {
          throw new UpdraftError(
            "TASK_INSTANCE_NOT_FOUND",
            `No task instance ${dagId}.${taskId} (map index ${mapIndex}) in run ${runId}. Check the ids with \`updraft tasks states-for-dag-run ${dagId} ${runId}\`.`,
          );
        }
        if (ti.state !== "queued") {
          throw new UpdraftError(
            "TASK_INSTANCE_NOT_QUEUED",
            `Task instance ${dagId}.${taskId} in run ${runId} is ${ti.state ?? "none"}, not queued: only a queued try can run. Use \`updraft tasks test ${dagId} ${taskId}\` to try a task, or \`updraft tasks clear\` to run it again.`,
          );
        }
        const dag = await loadDag(database.db, dagId);
        const task = dag?.task(taskId);
        if (!dag || !task)
          throw new UpdraftError(
            "DAG_NOT_FOUND",
            `DAG "${dagId}" or its task "${taskId}" is not in the database.`,
          );
        const key = { dag_id: dagId, run_id: runId, task_id: taskId, map_index: mapIndex };
        const timeout = task.execution_timeout_ms;
        const exp = Math.floor(Date.now() / 1000 + Math.max(86_400, (timeout ?? 0) / 1000 + 3600));
        workload = {
          kind: "task",
          ti: key,
          try_number: ti.try_number,
          fileloc: dag.dag.fileloc,
          token: signToken({ ti: key, try_number: ti.try_number, exp, scope: "task" }, secretKey),
          api_url: apiUrl,
          log_path: join(config.logging.base_log_folder, taskLogRelativePath(key, ti.try_number)),
          fresh_process: true,
          queue: task.queue,
          priority_weight: task.priority_weight,
          execution_timeout_ms: timeout,
        };
      } finally {
        await database.close();
      }
      // The runner (and the SDK with it) loads only when a task runs here.
      const { runWorkloadInThisProcess } = await import("../../runner/index.js");
      const outcome = await runWorkloadInThisProcess(workload, {
        cacheDir: join(config.home, "cache", "dags"),
      });
      process.stdout.write(
        `Task ${dagId}.${taskId} try ${workload.try_number}: ${outcome.state ?? "not run (refused by the server)"}\n`,
      );
      if (outcome.state !== "success" && outcome.state !== "skipped") process.exitCode = 1;
    });
}
