// `updraft db …`: create, check, reset and trim the metadata database.
import { Option, type Command } from "commander";
import { checkMigrations, cleanDatabase, migrate, resetDatabase, type Database } from "../../db/index.js";
import { withDatabase } from "../database.js";
import {
  confirmationRequired,
  parseIntOption,
  printJson,
  printTable,
  usesDatabase,
  type CliContext,
} from "./context.js";

function where(database: Database, url: string | null | undefined, home: string): string {
  if (database.dialect === "pglite") return `the embedded database in ${home}/db`;
  try {
    const u = new URL(url ?? "");
    return `PostgreSQL at ${u.host}${u.pathname}`;
  } catch {
    return "PostgreSQL";
  }
}

export function registerDbCommands(program: Command, ctx: CliContext): void {
  const db = program.command("db").description("create, check, reset and clean the metadata database");
  const raw = { requireMigrated: false };

  usesDatabase(
    db
      .command("migrate")
      .description("create the metadata database or bring its schema up to date")
      .action(async () => {
        await withDatabase(
          ctx,
          async (database, config) => {
            const applied = await migrate(database);
            const target = where(database, config.database.sql_alchemy_conn, config.home);
            ctx.io.out(
              applied.length === 0
                ? `The schema of ${target} is up to date.\n`
                : `Applied ${applied.length} migration${applied.length === 1 ? "" : "s"} to ${target}: ${applied.map((m) => `${m.version}-${m.name}`).join(", ")}.\n`,
            );
          },
          raw,
        );
      }),
  );

  usesDatabase(
    db
      .command("check")
      .description("check that the metadata database answers and its schema is up to date (exit 1 if not)")
      .addOption(
        new Option("-o, --output <format>", "output format").choices(["text", "json"]).default("text"),
      )
      .action(async (opts: { output: string }) => {
        await withDatabase(
          ctx,
          async (database, config) => {
            const status = await checkMigrations(database);
            const ok = status.pending.length === 0;
            if (opts.output === "json") {
              printJson(ctx, {
                dialect: database.dialect,
                applied: status.applied.map((m) => ({ version: m.version, name: m.name })),
                pending: status.pending.map((m) => ({ version: m.version, name: m.name })),
                up_to_date: ok,
              });
            } else {
              const target = where(database, config.database.sql_alchemy_conn, config.home);
              ctx.io.out(`Connected to ${target}: ${status.applied.length} migration(s) applied.\n`);
              if (!ok) {
                ctx.io.err(
                  `${status.pending.length} migration(s) pending (${status.pending.map((m) => `${m.version}-${m.name}`).join(", ")}). Run \`updraft db migrate\`.\n`,
                );
              }
            }
            if (!ok) ctx.setExitCode(1);
          },
          raw,
        );
      }),
  );

  usesDatabase(
    db
      .command("reset")
      .description("drop every table and migrate again: deletes ALL data")
      .option("-y, --yes", "confirm that all data may be deleted")
      .action(async (opts: { yes?: boolean }) => {
        if (opts.yes !== true) {
          throw confirmationRequired(
            "`updraft db reset` deletes every DAG, run, variable, connection and pool.",
          );
        }
        await withDatabase(
          ctx,
          async (database, config) => {
            await resetDatabase(database);
            ctx.io.out(
              `Reset ${where(database, config.database.sql_alchemy_conn, config.home)}: all data deleted, schema recreated.\n`,
            );
          },
          raw,
        );
      }),
  );

  usesDatabase(
    db
      .command("clean")
      .description(
        "delete finished DAG runs (with their task instances and XComs), logs, import errors and jobs older than N days",
      )
      .requiredOption("--older-than <days>", "age in days; rows older than this go")
      .option("--dry-run", "only count what would be deleted")
      .option("-y, --yes", "confirm the deletion")
      .addOption(
        new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
      )
      .action(async (opts: { olderThan: string; dryRun?: boolean; yes?: boolean; output: string }) => {
        const days = parseIntOption("--older-than", opts.olderThan, 0);
        await withDatabase(ctx, async (database) => {
          const dryRun = opts.dryRun === true || opts.yes !== true;
          const counts = await cleanDatabase(database, { olderThanDays: days, dryRun });
          if (opts.output === "json") {
            printJson(ctx, { dry_run: dryRun, older_than_days: days, rows: counts });
          } else {
            ctx.io.out(
              dryRun ? `Would delete (older than ${days} days):\n` : `Deleted (older than ${days} days):\n`,
            );
            printTable(
              ctx,
              ["table", "rows"],
              Object.entries(counts).map(([t, n]) => [t, String(n)]),
            );
          }
          if (opts.dryRun !== true && opts.yes !== true) {
            throw confirmationRequired(`\`updraft db clean\` would delete the rows above.`);
          }
        });
      }),
  );
}
