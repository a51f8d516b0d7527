// `updraft tasks states-for-dag-run | clear`: task instances in the metadata database.
import { Option, type Command } from "commander";
import { getDagRun, listTaskInstances } from "../../db/index.js";
import {
  clearTaskInstances,
  dagNotFound,
  loadDag,
  runNotFound,
  type ClearTaskInstancesInput,
} from "../../services/index.js";
import { withDatabase } from "../database.js";
import { syncIfGiven } from "./dag-sync.js";
import {
  cell,
  confirmationRequired,
  iso,
  parseDateOption,
  printJson,
  printTable,
  usesDatabase,
  type CliContext,
} from "./context.js";

const TI_COLUMNS = ["task_id", "map_index", "state", "try_number", "start_date", "end_date"] as const;

interface ClearOptions {
  taskRegex?: string;
  startDate?: string;
  endDate?: string;
  onlyFailed?: boolean;
  onlyRunning?: boolean;
  downstream?: boolean;
  upstream?: boolean;
  yes?: boolean;
  dagsFolder?: string;
}

export function registerTasksCommands(program: Command, ctx: CliContext): void {
  const tasks = program.command("tasks").description("inspect and clear task instances");

  usesDatabase(
    tasks
      .command("states-for-dag-run")
      .description("the state of every task instance of a DAG run")
      .argument("<dag_id>")
      .argument("<run_id>")
      .addOption(
        new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
      )
      .action(async (dagId: string, runId: string, opts: { output: string }) => {
        await withDatabase(ctx, async (database) => {
          const db = database.db;
          if (
            (await db.selectFrom("dag").select("dag_id").where("dag_id", "=", dagId).executeTakeFirst()) ===
            undefined
          ) {
            throw dagNotFound(dagId);
          }
          if ((await getDagRun(db, { dagId, runId })) === undefined) throw runNotFound(dagId, runId);
          const rows = (await listTaskInstances(db, { dagId, runId })).map((ti) => ({
            task_id: ti.task_id,
            map_index: ti.map_index,
            state: ti.state,
            try_number: ti.try_number,
            start_date: iso(ti.start_date),
            end_date: iso(ti.end_date),
          }));
          if (opts.output === "json") printJson(ctx, rows);
          else
            printTable(
              ctx,
              TI_COLUMNS,
              rows.map((r) =>
                TI_COLUMNS.map((c) => (c === "state" && r.state === null ? "none" : cell(r[c]))),
              ),
            );
        });
      }),
  );

  usesDatabase(
    tasks
      .command("clear")
      .description("clear task instances so that they run again (shows them and asks for --yes)")
      .argument("<dag_id>")
      .option("-t, --task-regex <regex>", "only tasks whose id matches")
      .option("-s, --start-date <date>", "only runs with a logical date at or after this")
      .option("-e, --end-date <date>", "only runs with a logical date at or before this")
      .option("-f, --only-failed", "only failed and upstream_failed task instances")
      .option("-r, --only-running", "only running task instances")
      .option("-d, --downstream", "also the tasks downstream of the selected ones")
      .option("-u, --upstream", "also the tasks upstream of the selected ones")
      .option("-y, --yes", "clear without asking")
      .addOption(new Option("--dags-folder <dir>", "parse this DAGs folder into the database first"))
      .action(async (dagId: string, opts: ClearOptions) => {
        const input: ClearTaskInstancesInput = {
          dagId,
          taskRegex: opts.taskRegex ?? null,
          startDate: opts.startDate === undefined ? null : parseDateOption("--start-date", opts.startDate),
          endDate: opts.endDate === undefined ? null : parseDateOption("--end-date", opts.endDate),
          onlyFailed: opts.onlyFailed === true,
          onlyRunning: opts.onlyRunning === true,
          downstream: opts.downstream === true,
          upstream: opts.upstream === true,
        };
        await withDatabase(ctx, async (database, config, events) => {
          await syncIfGiven(ctx, database, config, opts.dagsFolder);
          if ((await loadDag(database.db, dagId)) === undefined) throw dagNotFound(dagId);
          const preview = await clearTaskInstances(database.db, { ...input, dryRun: true });
          if (preview.taskInstances.length === 0) {
            ctx.io.out("No task instances to clear.\n");
            return;
          }
          // ExternalTaskMarkers add other DAGs' task instances: name the DAG then.
          const others = preview.taskInstances.some((t) => t.dag_id !== dagId);
          const list = (): void =>
            printTable(
              ctx,
              [...(others ? ["dag_id"] : []), "run_id", "task_id", "map_index", "state"],
              preview.taskInstances.map((t) => [
                ...(others ? [t.dag_id] : []),
                t.run_id,
                t.task_id,
                String(t.map_index),
                t.state ?? "none",
              ]),
            );
          if (opts.yes !== true) {
            ctx.io.out(`These ${preview.taskInstances.length} task instance(s) would be cleared:\n`);
            list();
            throw confirmationRequired(`\`updraft tasks clear\` would clear the task instances above.`);
          }
          const result = await clearTaskInstances(database.db, input, { events });
          const requeued = [
            ...result.dagRunsRequeued,
            ...result.externalDagRunsRequeued.map((r) => `${r.dag_id}/${r.run_id}`),
          ];
          ctx.io.out(
            `Cleared ${result.taskInstances.length} task instance(s)${requeued.length > 0 ? `; DAG runs queued again: ${requeued.join(", ")}` : ""}.\n`,
          );
        });
      }),
  );
}
