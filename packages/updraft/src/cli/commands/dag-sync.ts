// Parsing a DAGs folder into the metadata database from the CLI (`dags reserialize`, and
// `--dags-folder` on commands that need a DAG in the database). DAG files are evaluated in the
// processor's child processes, never in this process.
import { statSync } from "node:fs";
import { UpdraftError } from "../../common/errors.js";
import type { UpdraftConfig } from "../../config/index.js";
import type { Database } from "../../db/index.js";
import { syncDagBag, type SyncDagBagResult } from "../../services/index.js";
import { dagsSettings } from "../settings.js";
import { resolvePath, type CliContext } from "./context.js";

export interface FolderSync extends SyncDagBagResult {
  folder: string;
  dagIds: string[];
  importErrors: number;
}

/** Parses `folder` (relative to the caller's cwd) and writes its DAGs and import errors. */
export async function syncDagsFolder(
  ctx: CliContext,
  database: Database,
  config: UpdraftConfig,
  folder: string,
): Promise<FolderSync> {
  const settings = dagsSettings(resolvePath(ctx, folder));
  const dir = settings.dagsFolder;
  let exists = false;
  try {
    exists = statSync(dir).isDirectory() || statSync(dir).isFile();
  } catch {
    exists = false;
  }
  if (!exists) {
    throw new UpdraftError(
      "DAGS_FOLDER_NOT_FOUND",
      `The DAGs folder ${dir} does not exist. Pass --dags-folder DIR or set core.dags_folder (UPDRAFT__CORE__DAGS_FOLDER).`,
      { details: { folder: dir } },
    );
  }
  const { parseDagFolder } = await import("../../processor/index.js");
  const bag = await parseDagFolder(dir, settings.processor);
  // Files that parsed cleanly lose any import error they had before.
  const byFile = new Map<string, { error: string; line?: number }[]>(bag.dags.map((d) => [d.fileloc, []]));
  for (const e of bag.importErrors) {
    const list = byFile.get(e.filename) ?? [];
    list.push(e.line === undefined ? { error: e.error } : { error: e.error, line: e.line });
    byFile.set(e.filename, list);
  }
  const result = await syncDagBag(
    database.db,
    {
      upsertedDags: bag.dags,
      removedDagIds: [],
      importErrorChanges: [...byFile].map(([filename, errors]) => ({ filename, errors })),
      dagCode: bag.dagCode,
    },
    {
      pausedAtCreation: config.core.dags_are_paused_at_creation,
      defaultTimezone: config.core.default_timezone,
    },
  );
  return {
    ...result,
    folder: dir,
    dagIds: bag.dags.map((d) => d.dag_id).sort(),
    importErrors: bag.importErrors.length,
  };
}

/** Syncs the folder when `--dags-folder` was given; commands then find its DAGs in the database. */
export async function syncIfGiven(
  ctx: CliContext,
  database: Database,
  config: UpdraftConfig,
  folder: string | undefined,
): Promise<void> {
  if (folder === undefined) return;
  const sync = await syncDagsFolder(ctx, database, config, folder);
  if (sync.importErrors > 0) {
    ctx.io.err(
      `Warning: ${sync.importErrors} import error(s) in ${sync.folder} (run \`updraft dags list-import-errors\` for details).\n`,
    );
  }
}
