// `updraft dags backfill`: runs a DAG over a past date range. The scheduler manages the backfill
// (createBackfill: its runs, at most --max-active-runs at once); this command creates it and
// waits with a progress bar, polling its status, unless --no-wait.
import { SingleBar } from "cli-progress";
import { Option, type Command } from "commander";
import { UpdraftError } from "../../common/errors.js";
import { listDagRuns } from "../../db/index.js";
import { dataIntervalsBetween, parseSchedule } from "../../model/timetable.js";
import { backfillStatus, createBackfill } from "../../scheduler/backfill.js";
import { dagNotFound, loadDag } from "../../services/index.js";
import { withDatabase } from "../database.js";
import { syncIfGiven } from "./dag-sync.js";
import { parseDateOption, parseIntOption, printTable, usesDatabase, type CliContext } from "./context.js";

interface BackfillOptions {
  fromDate: string;
  toDate: string;
  rerunFailed?: boolean;
  maxActiveRuns?: string;
  wait: boolean;
  dryRun?: boolean;
  dagsFolder?: string;
  pollInterval: string;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Progress for people: a redrawn bar on a terminal, one line per change otherwise. */
function progress(
  ctx: CliContext,
  dagId: string,
  total: number,
): { update(done: number, failed: number): void; stop(): void } {
  if (ctx.io.interactive && ctx.database === undefined) {
    const bar = new SingleBar({
      format: `backfill ${dagId} [{bar}] {value}/{total} runs finished, {failed} failed | {duration_formatted}`,
      stream: process.stderr,
      hideCursor: true,
    });
    bar.start(total, 0, { failed: 0 });
    return { update: (done, failed) => bar.update(done, { failed }), stop: () => bar.stop() };
  }
  let last = "";
  return {
    update(done, failed) {
      const line = `backfill ${dagId}: ${done}/${total} runs finished, ${failed} failed\n`;
      if (line !== last) ctx.io.err(line);
      last = line;
    },
    stop: () => undefined,
  };
}

export function registerBackfillCommand(dags: Command, ctx: CliContext): void {
  usesDatabase(
    dags
      .command("backfill")
      .description("run a DAG for every scheduled interval between two dates, and wait for the runs")
      .argument("<dag_id>")
      .requiredOption("-s, --from-date <date>", "first logical date (ISO 8601)")
      .requiredOption("-e, --to-date <date>", "last logical date (ISO 8601)")
      .option("--rerun-failed", "clear and rerun the failed tasks of failed runs in the range")
      .option(
        "--max-active-runs <n>",
        "at most this many of the backfill's runs unfinished at once (default 10)",
      )
      .option("--no-wait", "create the runs and return without waiting")
      .option("--dry-run", "print the runs the backfill would create and rerun")
      .addOption(new Option("--dags-folder <dir>", "parse this DAGs folder into the database first"))
      .addOption(new Option("--poll-interval <seconds>").default("1").hideHelp())
      .action(async (dagId: string, opts: BackfillOptions) => {
        const from = parseDateOption("--from-date", opts.fromDate);
        const to = parseDateOption("--to-date", opts.toDate);
        if (from > to) {
          throw new UpdraftError(
            "DATE_INVALID",
            `--from-date ${opts.fromDate} is after --to-date ${opts.toDate}.`,
          );
        }
        const maxActive =
          opts.maxActiveRuns === undefined ? 10 : parseIntOption("--max-active-runs", opts.maxActiveRuns, 1);
        const pollMs = Math.max(50, Number(opts.pollInterval) * 1000 || 1000);
        await withDatabase(ctx, async (database, config) => {
          await syncIfGiven(ctx, database, config, opts.dagsFolder);
          if (opts.dryRun === true) {
            const dag = await loadDag(database.db, dagId);
            if (dag === undefined) throw dagNotFound(dagId);
            const timetable = parseSchedule(
              dag.dag.schedule,
              dag.dag.timezone ?? config.core.default_timezone,
            );
            const existing = new Map(
              (await listDagRuns(database.db, { dagId, logicalDateGte: from, logicalDateLte: to })).map(
                (r) => [r.logical_date?.getTime(), r],
              ),
            );
            const rows = dataIntervalsBetween(timetable, from, to).map((i) => {
              const run = existing.get(i.logicalDate.getTime());
              const action = !run
                ? "create"
                : opts.rerunFailed === true && run.state === "failed"
                  ? "rerun"
                  : "skip";
              return [i.logicalDate.toISOString(), action, run?.run_id ?? ""];
            });
            if (rows.length === 0) ctx.io.out(`DAG ${dagId} has no scheduled run in that range.\n`);
            else printTable(ctx, ["logical_date", "action", "existing_run"], rows);
            return;
          }
          const created = await createBackfill(database, {
            dagId,
            fromDate: from,
            toDate: to,
            rerunFailed: opts.rerunFailed === true,
            maxActiveRuns: maxActive,
            defaultTimezone: config.core.default_timezone,
          });
          const tracked = created.runIds.length;
          const skipped = created.skipped > 0 ? `, ${created.skipped} existing skipped` : "";
          if (tracked === 0) {
            ctx.io.out(`Nothing to do: every run of ${dagId} in the range exists${skipped}.\n`);
            return;
          }
          if (!opts.wait) {
            ctx.io.out(
              `Backfill ${created.backfillId} of ${dagId}: ${tracked} run(s) queued${skipped}. Follow them with \`updraft dags list-runs ${dagId}\`.\n`,
            );
            return;
          }
          const bar = progress(ctx, dagId, tracked);
          let status = await backfillStatus(database, created.backfillId);
          try {
            while (!status.done) {
              bar.update(status.success + status.failed, status.failed);
              await sleep(pollMs);
              status = await backfillStatus(database, created.backfillId);
            }
            bar.update(status.success + status.failed, status.failed);
          } finally {
            bar.stop();
          }
          ctx.io.out(
            `Backfill of ${dagId} finished: ${status.success} succeeded, ${status.failed} failed${skipped}.\n`,
          );
          if (status.failed > 0) ctx.setExitCode(1);
        });
      }),
  );
}
