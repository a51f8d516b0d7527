// `dags test`, `tasks test` and `tasks run`: run work in the foreground. The tests run the real
// engine (API server, scheduler, LocalExecutor) on a throwaway in-memory database, so a DAG
// behaves exactly as it will in production, without touching the metadata database.
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Command } from "commander";
import { UpdraftError } from "../../common/errors.js";
import { loadConfig } from "../../config/index.js";
import {
  generateFernetKey,
  getDagRun,
  listTaskInstances,
  openMemoryDatabase,
  type TaskInstanceRow,
} from "../../db/index.js";
import { taskLogRelativePath } from "../../model/execution-api.js";
import { setDagPaused, triggerDagRun } from "../../services/index.js";
import { startEngine, type Engine } from "../engine.js";
import { terminalLogger } from "../logger.js";
import { formatTable } from "../output.js";
import { dagsSettings } from "../settings.js";

const FINISHED_RUN = new Set(["success", "failed"]);

interface ForegroundRun {
  engine: Engine;
  logFolder: string;
}

/** An engine on a fresh in-memory database, logs in a temp folder, scheduled runs disabled. */
async function foregroundEngine(dagsFolderOption: string | undefined, dagId: string): Promise<ForegroundRun> {
  const base = loadConfig();
  const logFolder = mkdtempSync(join(tmpdir(), "updraft-test-logs-"));
  const config = loadConfig({
    overrides: {
      "logging.base_log_folder": logFolder,
      "core.dags_are_paused_at_creation": true,
      ...(base.core.fernet_key ? {} : { "core.fernet_key": generateFernetKey() }),
    },
  });
  const { dagsFolder } = dagsSettings(dagsFolderOption);
  const database = await openMemoryDatabase(join(config.home, "cache"));
  const engine = await startEngine({
    config,
    dagsFolder,
    database,
    parts: { api: true, scheduler: true, processor: true },
    logger: terminalLogger(process.env.UPDRAFT_LOG_LEVEL ?? "warn"),
    secretKey: randomBytes(32).toString("base64url"),
    port: 0,
    host: "127.0.0.1",
  });
  const db = engine.database.db;
  if (
    (await db.selectFrom("dag").select("dag_id").where("dag_id", "=", dagId).executeTakeFirst()) === undefined
  ) {
    await engine.stop();
    throw new UpdraftError(
      "DAG_NOT_FOUND",
      `DAG "${dagId}" was not found in ${dagsFolder}. Run \`updraft dags list\` to see the DAG ids, or \`updraft dags list-import-errors\` if its file failed to import.`,
    );
  }
  // Only the run this command creates: no scheduled runs of any DAG.
  await db.updateTable("dag").set({ next_dagrun_create_after: null }).execute();
  await setDagPaused(db, dagId, false);
  return { engine, logFolder };
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
            { dagId, conf, logicalDate: logicalDate ?? null, runId: `test__${new Date().toISOString()}` },
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
          await run.engine.stop();
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
          const dagRun = await triggerDagRun(db, {
            dagId,
            logicalDate: logicalDate ?? null,
            runId: `test__${new Date().toISOString()}`,
          });
          const all = await listTaskInstances(db, { dagId, runId: dagRun.run_id });
          if (!all.some((t) => t.task_id === taskId)) {
            throw new UpdraftError(
              "TASK_NOT_FOUND",
              `DAG "${dagId}" has no task "${taskId}". Tasks: ${[...new Set(all.map((t) => t.task_id))].join(", ")}.`,
            );
          }
          // As Airflow's `tasks test`: dependencies are ignored. The others are marked done so the
          // scheduler starts only this task; their XComs do not exist.
          await db
            .updateTable("task_instance")
            .set({ state: "success" })
            .where("dag_id", "=", dagId)
            .where("run_id", "=", dagRun.run_id)
            .where("task_id", "!=", taskId)
            .execute();
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
          await run.engine.stop();
        }
      },
    );
}
