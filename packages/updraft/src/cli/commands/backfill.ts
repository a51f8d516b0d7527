// `updraft dags backfill`: runs a DAG over a past date range. The CLI creates the backfill's runs
// (at most --max-active-runs unfinished at a time) and the scheduler runs them; the command waits
// with a progress bar, polling the database, unless --no-wait.
//
// Interim: run creation lives here until the scheduler exports createBackfill/backfillStatus;
// then this file should call those and keep only the waiting and printing.
import { SingleBar } from "cli-progress";
import { Option, type Command } from "commander";
import { UpdraftError } from "../../common/errors.js";
import {
  createDagRun,
  createTaskInstances,
  inTransaction,
  listDagRuns,
  type DagRunRow,
  type Executor,
} from "../../db/index.js";
import { effectivePriorityWeights, type WeightRule } from "../../model/priority-weight.js";
import { dataIntervalsBetween, parseSchedule, type DagRunInfo } from "../../model/timetable.js";
import { clearTaskInstances, dagNotFound, loadDag, type CachedDag } from "../../services/index.js";
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

type Step = { info: DagRunInfo; action: "create" | "rerun" | "skip"; existing?: DagRunRow };

async function createBackfillRun(db: Executor, dag: CachedDag, info: DagRunInfo): Promise<string> {
  const runId = `backfill__${info.logicalDate.toISOString()}`;
  const weights = effectivePriorityWeights(
    dag.dag.tasks.map((t) => ({ ...t, weight_rule: t.weight_rule as WeightRule })),
  );
  await inTransaction(db, async (trx) => {
    await createDagRun(trx, {
      dagId: dag.dag.dag_id,
      runId,
      runType: "backfill",
      logicalDate: info.logicalDate,
      dataIntervalStart: info.dataInterval.start,
      dataIntervalEnd: info.dataInterval.end,
      state: "queued",
      conf: {},
      dagHash: dag.hash,
    });
    await createTaskInstances(
      trx,
      { dagId: dag.dag.dag_id, runId },
      dag.dag.tasks.map((t) => ({
        taskId: t.task_id,
        mapIndex: -1,
        maxTries: t.retries + 1,
        pool: t.pool,
        poolSlots: t.pool_slots,
        priorityWeight: weights.get(t.task_id) ?? t.priority_weight,
        queue: t.queue,
        operator: t.operator,
      })),
    );
  });
  return runId;
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
          const db = database.db;
          const dag = await loadDag(db, dagId);
          if (dag === undefined) throw dagNotFound(dagId);
          const timetable = parseSchedule(dag.dag.schedule, dag.dag.timezone ?? config.core.default_timezone);
          const intervals = dataIntervalsBetween(timetable, from, to);
          const existing = new Map(
            (await listDagRuns(db, { dagId, logicalDateGte: from, logicalDateLte: to })).map((r) => [
              r.logical_date?.getTime(),
              r,
            ]),
          );
          const steps: Step[] = intervals.map((info) => {
            const run = existing.get(info.logicalDate.getTime());
            if (run === undefined) return { info, action: "create" };
            return {
              info,
              action: opts.rerunFailed === true && run.state === "failed" ? "rerun" : "skip",
              existing: run,
            };
          });
          const todo = steps.filter((s) => s.action !== "skip");
          const skipped = steps.length - todo.length;
          if (opts.dryRun === true || todo.length === 0) {
            if (steps.length === 0)
              ctx.io.out(
                `DAG ${dagId} has no scheduled run between ${from.toISOString()} and ${to.toISOString()}.\n`,
              );
            else {
              printTable(
                ctx,
                ["logical_date", "action", "existing_run"],
                steps.map((s) => [s.info.logicalDate.toISOString(), s.action, s.existing?.run_id ?? ""]),
              );
            }
            if (steps.length > 0 && todo.length === 0)
              ctx.io.out("Nothing to do: every run in the range exists.\n");
            return;
          }
          const tracked: string[] = [];
          const start = async (step: Step): Promise<void> => {
            if (step.action === "rerun" && step.existing !== undefined) {
              await clearTaskInstances(db, { dagId, runId: step.existing.run_id, onlyFailed: true });
              tracked.push(step.existing.run_id);
            } else {
              tracked.push(await createBackfillRun(db, dag, step.info));
            }
          };
          const queue = [...todo];
          if (!opts.wait) {
            for (const step of queue.splice(0)) await start(step);
            ctx.io.out(
              `Backfill of ${dagId}: ${tracked.length} run(s) queued${skipped > 0 ? `, ${skipped} existing skipped` : ""}. Follow them with \`updraft dags list-runs ${dagId}\`.\n`,
            );
            return;
          }
          const bar = progress(ctx, dagId, todo.length);
          let done = 0;
          let failed = 0;
          try {
            for (;;) {
              const runs =
                tracked.length === 0
                  ? []
                  : await db
                      .selectFrom("dag_run")
                      .select(["run_id", "state"])
                      .where("dag_id", "=", dagId)
                      .where("run_id", "in", tracked)
                      .execute();
              const active = runs.filter((r) => r.state === "queued" || r.state === "running").length;
              done = runs.filter((r) => r.state === "success" || r.state === "failed").length;
              failed = runs.filter((r) => r.state === "failed").length;
              for (let n = active; n < maxActive && queue.length > 0; n++) await start(queue.shift()!);
              bar.update(done, failed);
              if (queue.length === 0 && done === todo.length) break;
              await sleep(pollMs);
            }
          } finally {
            bar.stop();
          }
          ctx.io.out(
            `Backfill of ${dagId} finished: ${done - failed} succeeded, ${failed} failed${skipped > 0 ? `, ${skipped} existing skipped` : ""}.\n`,
          );
          if (failed > 0) ctx.setExitCode(1);
        });
      }),
  );
}
