// `updraft dags trigger | pause | unpause | list-runs | state | reserialize | backfill`: the
// `dags` subcommands that work on the metadata database (dags.ts holds the ones that only parse).
import { Option, type Command } from "commander";
import { UpdraftError } from "../../common/errors.js";
import { getDag, getDagRun, listDagRuns, type DagRunRow } from "../../db/index.js";
import { DAG_RUN_STATES, type DagRunState } from "../../model/states.js";
import { dagNotFound, runNotFound, setDagPaused, triggerDagRun } from "../../services/index.js";
import { withDatabase } from "../database.js";
import { registerBackfillCommand } from "./backfill.js";
import { syncDagsFolder, syncIfGiven } from "./dag-sync.js";
import {
  cell,
  iso,
  parseDateOption,
  printJson,
  printTable,
  usesDatabase,
  type CliContext,
} from "./context.js";

const RUN_COLUMNS = [
  "dag_id",
  "run_id",
  "state",
  "run_type",
  "logical_date",
  "start_date",
  "end_date",
] as const;

export function runJson(run: DagRunRow): Record<(typeof RUN_COLUMNS)[number], string | null> {
  return {
    dag_id: run.dag_id,
    run_id: run.run_id,
    state: run.state,
    run_type: run.run_type,
    logical_date: iso(run.logical_date),
    start_date: iso(run.start_date),
    end_date: iso(run.end_date),
  };
}

function printRuns(ctx: CliContext, runs: readonly DagRunRow[], output: string): void {
  const rows = runs.map(runJson);
  if (output === "json") printJson(ctx, rows);
  else if (rows.length === 0) ctx.io.out("No DAG runs.\n");
  else
    printTable(
      ctx,
      RUN_COLUMNS,
      rows.map((r) => RUN_COLUMNS.map((c) => cell(r[c]))),
    );
}

/** `--conf` text as a JSON object, or DAG_RUN_CONF_INVALID naming what is wrong with it. */
export function parseConf(text: string): Record<string, unknown> {
  let conf: unknown;
  try {
    conf = JSON.parse(text);
  } catch (err) {
    throw new UpdraftError(
      "DAG_RUN_CONF_INVALID",
      `--conf is not valid JSON: ${err instanceof Error ? err.message : String(err)}. Give a JSON object, such as --conf '{"limit": 10}'.`,
    );
  }
  if (typeof conf !== "object" || conf === null || Array.isArray(conf)) {
    throw new UpdraftError(
      "DAG_RUN_CONF_INVALID",
      `--conf must be a JSON object, not ${Array.isArray(conf) ? "an array" : conf === null ? "null" : `a ${typeof conf}`}, such as --conf '{"limit": 10}'.`,
    );
  }
  return conf as Record<string, unknown>;
}

function outputOption(): Option {
  return new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table");
}

function folderOption(): Option {
  return new Option(
    "--dags-folder <dir>",
    "parse this DAGs folder into the database first (otherwise the DAG must have been parsed by the DAG processor)",
  );
}

async function requireDag(database: { db: Parameters<typeof getDag>[0] }, dagId: string): Promise<void> {
  if ((await getDag(database.db, dagId)) === undefined) throw dagNotFound(dagId);
}

export function registerDagRunCommands(dags: Command, ctx: CliContext): void {
  usesDatabase(
    dags
      .command("reserialize")
      .description("parse the DAGs folder and write its DAGs and import errors to the database")
      .addOption(new Option("--dags-folder <dir>", "DAGs folder (default: core.dags_folder)"))
      .action(async (opts: { dagsFolder?: string }) => {
        await withDatabase(ctx, async (database, config) => {
          const sync = await syncDagsFolder(
            ctx,
            database,
            config,
            opts.dagsFolder ?? config.core.dags_folder,
          );
          ctx.io.out(
            `Parsed ${sync.folder}: ${sync.dagIds.length} DAG(s) written${sync.dagIds.length > 0 ? ` (${sync.dagIds.join(", ")})` : ""}, ${sync.importErrors} import error(s).\n`,
          );
          for (const p of sync.scheduleProblems) ctx.io.err(`Warning: DAG ${p.dag_id}: ${p.error}\n`);
        });
      }),
  );

  usesDatabase(
    dags
      .command("trigger")
      .description("create a manual DAG run (queued); the scheduler runs it")
      .argument("<dag_id>")
      .option("-c, --conf <json>", "the run's conf, a JSON object checked against the DAG's params")
      .option("-r, --run-id <run_id>", "the run id (default manual__<logical date>)")
      .option("-l, --logical-date <iso>", "the logical date (default now)")
      .addOption(folderOption())
      .addOption(outputOption())
      .action(
        async (
          dagId: string,
          opts: { conf?: string; runId?: string; logicalDate?: string; dagsFolder?: string; output: string },
        ) => {
          // Everything the user typed is checked before the database is touched.
          const conf = opts.conf === undefined ? {} : parseConf(opts.conf);
          const logicalDate =
            opts.logicalDate === undefined ? null : parseDateOption("--logical-date", opts.logicalDate);
          await withDatabase(ctx, async (database, config, events) => {
            await syncIfGiven(ctx, database, config, opts.dagsFolder);
            const run = await triggerDagRun(
              database.db,
              { dagId, conf, runId: opts.runId ?? null, logicalDate },
              { defaultTimezone: config.core.default_timezone, events },
            );
            const dag = await getDag(database.db, dagId);
            if (dag?.is_paused) {
              ctx.io.err(
                `Note: DAG ${dagId} is paused; the run starts when you unpause it (updraft dags unpause ${dagId}).\n`,
              );
            }
            if (opts.output === "json") printJson(ctx, runJson(run));
            else {
              ctx.io.out(
                `Created DAG run ${run.run_id} of ${dagId} (state ${run.state}, logical date ${cell(run.logical_date)}).\n`,
              );
            }
          });
        },
      ),
  );

  for (const [name, paused] of [
    ["pause", true],
    ["unpause", false],
  ] as const) {
    usesDatabase(
      dags
        .command(name)
        .description(paused ? "pause a DAG: the scheduler creates no new runs" : "unpause a DAG")
        .argument("<dag_id>")
        .action(async (dagId: string) => {
          await withDatabase(ctx, async (database, _config, events) => {
            const row = await setDagPaused(database.db, dagId, paused, { events });
            ctx.io.out(`DAG ${row.dag_id} is ${row.is_paused ? "paused" : "unpaused"}.\n`);
          });
        }),
    );
  }

  usesDatabase(
    dags
      .command("list-runs")
      .description("list a DAG's runs, newest first")
      .argument("<dag_id>")
      .option("--state <state>", `only runs in this state (${DAG_RUN_STATES.join(", ")})`)
      .addOption(outputOption())
      .action(async (dagId: string, opts: { state?: string; output: string }) => {
        const state = opts.state;
        if (state !== undefined && !(DAG_RUN_STATES as readonly string[]).includes(state)) {
          throw new UpdraftError(
            "STATE_INVALID",
            `--state ${JSON.stringify(state)} is not a DAG run state: use one of ${DAG_RUN_STATES.join(", ")}.`,
          );
        }
        await withDatabase(ctx, async (database) => {
          await requireDag(database, dagId);
          const runs = await listDagRuns(database.db, {
            dagId,
            ...(state === undefined ? {} : { states: [state as DagRunState] }),
          });
          printRuns(ctx, runs, opts.output);
        });
      }),
  );

  usesDatabase(
    dags
      .command("state")
      .description("print the state of a DAG run (by run id, or by logical date)")
      .argument("<dag_id>")
      .argument("<run_id>", "the run id, or the run's logical date in ISO 8601")
      .action(async (dagId: string, runId: string) => {
        await withDatabase(ctx, async (database) => {
          await requireDag(database, dagId);
          let run = await getDagRun(database.db, { dagId, runId });
          if (run === undefined && /^\d{4}-\d{2}-\d{2}/.test(runId)) {
            const date = parseDateOption("the logical date", runId);
            run = await database.db
              .selectFrom("dag_run")
              .selectAll()
              .where("dag_id", "=", dagId)
              .where("logical_date", "=", date)
              .executeTakeFirst();
          }
          if (run === undefined) throw runNotFound(dagId, runId);
          ctx.io.out(`${run.state}\n`);
        });
      }),
  );

  registerBackfillCommand(dags, ctx);
}
