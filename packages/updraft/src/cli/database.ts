// Opening the metadata database for one CLI command. The embedded database can be opened by one
// process only; while `updraft standalone` holds it, the command runs inside that server instead
// (see forward.ts and remote.ts, and docs/decisions/0010-cli-and-embedded-database-access.md).
import { isUpdraftError, UpdraftError } from "../common/errors.js";
import type { UpdraftConfig } from "../config/index.js";
import { EngineEvents } from "../events/engine-events.js";
import { cliConfig } from "./standalone-files.js";
import { checkMigrations, openDatabase, type Database } from "../db/index.js";
import type { CliContext } from "./commands/context.js";
import { findStandalone, forwardCommand } from "./forward.js";

export interface WithDatabaseOptions {
  /** Refuse to run on a schema that is not migrated (default true; `db` commands pass false). */
  requireMigrated?: boolean;
}

function isEmbedded(config: UpdraftConfig): boolean {
  const url = config.database.sql_alchemy_conn;
  return url === null || url === undefined || url === "";
}

async function checkSchema(database: Database): Promise<void> {
  const status = await checkMigrations(database);
  if (status.pending.length > 0) {
    throw new UpdraftError(
      "DB_NOT_MIGRATED",
      status.applied.length === 0
        ? "The metadata database is not initialized. Run `updraft db migrate` first."
        : `The metadata database lacks ${status.pending.length} migration(s) (${status.pending.map((m) => `${m.version}-${m.name}`).join(", ")}). Run \`updraft db migrate\`.`,
      { details: { pending: status.pending.map((m) => m.version) } },
    );
  }
}

/**
 * Runs `fn` with the metadata database: the server's when running inside it, else opened here and
 * closed afterwards. When the embedded database belongs to a live `updraft standalone`, the whole
 * command is forwarded to it instead, its output printed and its exit code set; `fn` does not run
 * here and the result is undefined.
 */
export async function withDatabase<T>(
  ctx: CliContext,
  fn: (database: Database, config: UpdraftConfig, events: EngineEvents) => Promise<T>,
  options: WithDatabaseOptions = {},
): Promise<T | undefined> {
  const config = cliConfig();
  const requireMigrated = options.requireMigrated !== false;
  if (ctx.database !== undefined) {
    if (requireMigrated) await checkSchema(ctx.database);
    return fn(ctx.database, config, ctx.events ?? new EngineEvents(ctx.database));
  }
  const embedded = isEmbedded(config);
  const forward = async (): Promise<boolean> => {
    const server = embedded ? findStandalone(config.home) : null;
    if (server === null) return false;
    ctx.setExitCode(await forwardCommand(server, ctx.argv, ctx.cwd, ctx.io));
    return true;
  };
  if (await forward()) return undefined;
  let database: Database;
  try {
    database = await openDatabase(config);
  } catch (err) {
    // The server may have started between the look and the open.
    if (isUpdraftError(err, "DB_LOCKED") && (await forward())) return undefined;
    throw err;
  }
  try {
    if (requireMigrated) await checkSchema(database);
    // Not started: emitting only NOTIFYs (PostgreSQL), which wakes schedulers elsewhere.
    return await fn(database, config, new EngineEvents(database));
  } finally {
    await database.close();
  }
}
