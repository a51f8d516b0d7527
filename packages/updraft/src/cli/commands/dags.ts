// `updraft dags …`: list, inspect and validate DAG files. Every command parses the DAGs folder in
// isolated child processes (the CLI process never imports a DAG file).
import { statSync } from "node:fs";
import { resolve } from "node:path";
import { Option, type Command } from "commander";
import { UpdraftError } from "../../common/errors.js";
import { describeSchedule } from "../../model/asset-condition.js";
import type { SerializedDag, SerializedTask } from "../../model/serialized-dag.js";
import type { DagBag, ImportError } from "../../processor/index.js";
import { displayPath, formatLocated, formatTable, printJson, printTable } from "../output.js";
import { dagsSettings } from "../settings.js";

interface FolderOptions {
  dagsFolder?: string;
  output: string;
}

/** Parses `path` (a file, or the DAGs folder when undefined: `--dags-folder` or core.dags_folder). */
async function parse(path: string | undefined, validating = false): Promise<DagBag & { folder: string }> {
  const settings = dagsSettings(path);
  const folder = settings.dagsFolder;
  try {
    if (!statSync(folder).isDirectory() && !statSync(folder).isFile()) throw new Error("not a file");
  } catch {
    throw new UpdraftError(
      "DAGS_FOLDER_NOT_FOUND",
      validating
        ? `${folder} does not exist. Pass a DAG file or a folder of DAG files.`
        : `The DAGs folder ${folder} does not exist. Pass --dags-folder DIR or set core.dags_folder (UPDRAFT__CORE__DAGS_FOLDER).`,
      { details: { folder } },
    );
  }
  // The processor (and esbuild) loads only for the commands that parse DAG files.
  const { parseDagFolder } = await import("../../processor/index.js");
  return { ...(await parseDagFolder(folder, settings.processor)), folder };
}

/** Import errors go to stderr so that stdout stays clean for `--output json`. */
function summarizeImportErrors(errors: readonly ImportError[]): void {
  if (errors.length === 0) return;
  const files = [...new Set(errors.map((e) => e.filename))];
  process.stderr.write(
    `Warning: ${files.length} DAG file${files.length === 1 ? "" : "s"} failed to import (run \`updraft dags list-import-errors\` for details):\n`,
  );
  for (const f of files.slice(0, 10)) process.stderr.write(`  ${displayPath(f)}\n`);
  if (files.length > 10) process.stderr.write(`  … and ${files.length - 10} more\n`);
}

/** The time schedule, the asset condition (`Asset: a & b`), both (`Asset: a or @daily`), or None. */
function schedule(dag: SerializedDag): string {
  return describeSchedule(dag.schedule, dag.asset_condition) ?? "None";
}

function levenshtein(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/** Up to five known ids that look like `wanted` (typos, substrings), closest first. */
export function closeIds(wanted: string, ids: readonly string[]): string[] {
  const w = wanted.toLowerCase();
  return ids
    .map((id) => ({ id, d: levenshtein(w, id.toLowerCase()) }))
    .filter(
      ({ id, d }) =>
        d <= Math.max(2, Math.floor(wanted.length / 3)) ||
        id.toLowerCase().includes(w) ||
        w.includes(id.toLowerCase()),
    )
    .sort((a, b) => a.d - b.d || a.id.localeCompare(b.id))
    .slice(0, 5)
    .map(({ id }) => id);
}

/** Tasks in dependency order (upstream first; ties by task id). */
function topoOrder(tasks: readonly SerializedTask[]): SerializedTask[] {
  const byId = new Map(tasks.map((t) => [t.task_id, t]));
  const indegree = new Map(
    tasks.map((t) => [t.task_id, t.upstream_task_ids.filter((u) => byId.has(u)).length]),
  );
  const ready = tasks
    .filter((t) => indegree.get(t.task_id) === 0)
    .map((t) => t.task_id)
    .sort();
  const out: SerializedTask[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    const task = byId.get(id)!;
    out.push(task);
    for (const down of [...task.downstream_task_ids].sort()) {
      const n = (indegree.get(down) ?? 0) - 1;
      indegree.set(down, n);
      if (n === 0) ready.push(down);
    }
    ready.sort();
  }
  // A cycle never reaches here (the processor rejects it), but never drop a task from the listing.
  for (const t of tasks) if (!out.includes(t)) out.push(t);
  return out;
}

/** The dependency tree from the roots down; a task reached a second time is marked, not repeated. */
function formatTree(tasks: readonly SerializedTask[]): string[] {
  const byId = new Map(tasks.map((t) => [t.task_id, t]));
  const shown = new Set<string>();
  const lines: string[] = [];
  const visit = (task: SerializedTask, prefix: string, last: boolean, root: boolean): void => {
    const seen = shown.has(task.task_id);
    const label = `${task.task_id} (${task.operator})${seen ? " …see above" : ""}`;
    lines.push(root ? label : `${prefix}${last ? "└── " : "├── "}${label}`);
    if (seen) return;
    shown.add(task.task_id);
    const children = [...task.downstream_task_ids].sort().flatMap((d) => {
      const t = byId.get(d);
      return t === undefined ? [] : [t];
    });
    const childPrefix = root ? "" : `${prefix}${last ? "    " : "│   "}`;
    children.forEach((c, i) => visit(c, childPrefix, i === children.length - 1, false));
  };
  const roots = tasks
    .filter((t) => t.upstream_task_ids.length === 0)
    .sort((a, b) => a.task_id.localeCompare(b.task_id));
  for (const r of roots) visit(r, "", true, true);
  return lines;
}

export function formatDagText(dag: SerializedDag): string {
  const header = [
    `DAG ${dag.dag_id}`,
    `  file:      ${displayPath(dag.fileloc)}`,
    `  schedule:  ${schedule(dag)}`,
    `  owners:    ${dag.owners.join(", ") || "-"}`,
    `  tags:      ${dag.tags.join(", ") || "-"}`,
    "",
    `Graph (${dag.tasks.length} task${dag.tasks.length === 1 ? "" : "s"}):`,
    ...formatTree(dag.tasks).map((l) => `  ${l}`),
    "",
  ].join("\n");
  const rows = topoOrder(dag.tasks).map((t) => [
    t.task_id,
    t.operator,
    t.trigger_rule,
    String(t.retries),
    t.upstream_task_ids.length === 0 ? "-" : [...t.upstream_task_ids].sort().join(", "),
  ]);
  return `${header}\n${formatTable(["task_id", "operator", "trigger_rule", "retries", "upstream"], rows)}`;
}

function outputOption(choices: string[], fallback: string): Option {
  return new Option("-o, --output <format>", "output format").choices(choices).default(fallback);
}

function folderOption(): Option {
  return new Option("--dags-folder <dir>", "DAGs folder (default: core.dags_folder)");
}

export function registerDagsCommands(program: Command): void {
  const dags = program.command("dags").description("list, show and validate DAGs");

  dags
    .command("list")
    .description("list the DAGs defined in the DAGs folder")
    .addOption(folderOption())
    .addOption(outputOption(["table", "json"], "table"))
    .action(async (opts: FolderOptions) => {
      const bag = await parse(opts.dagsFolder);
      const dagList = [...bag.dags].sort((a, b) => a.dag_id.localeCompare(b.dag_id));
      if (opts.output === "json") {
        printJson(
          dagList.map((d) => ({
            dag_id: d.dag_id,
            fileloc: d.fileloc,
            schedule: d.schedule,
            tags: d.tags,
            owners: d.owners,
          })),
        );
      } else if (dagList.length === 0) {
        process.stdout.write("No DAGs found.\n");
      } else {
        printTable(
          ["dag_id", "schedule", "owners", "tags", "fileloc"],
          dagList.map((d) => [
            d.dag_id,
            schedule(d),
            d.owners.join(", "),
            d.tags.join(", "),
            displayPath(d.fileloc),
          ]),
        );
      }
      summarizeImportErrors(bag.importErrors);
    });

  dags
    .command("list-import-errors")
    .description("list the DAG files that failed to import, and why")
    .addOption(folderOption())
    .addOption(outputOption(["table", "json"], "table"))
    .action(async (opts: FolderOptions) => {
      const bag = await parse(opts.dagsFolder);
      if (opts.output === "json") {
        printJson(bag.importErrors.map((e) => ({ filename: e.filename, error: e.error })));
      } else if (bag.importErrors.length === 0) {
        process.stdout.write("No import errors.\n");
      } else {
        process.stdout.write(
          `${bag.importErrors.map((e) => formatLocated(e.filename, e.line, e.error.replace(/\n/g, "\n    "))).join("\n")}\n`,
        );
      }
    });

  dags
    .command("show")
    .description("show one DAG's tasks and dependencies")
    .argument("<dag_id>", "the DAG id")
    .addOption(folderOption())
    .addOption(outputOption(["text", "json"], "text"))
    .action(async (dagId: string, opts: FolderOptions) => {
      const bag = await parse(opts.dagsFolder);
      const dag = bag.dags.find((d) => d.dag_id === dagId);
      if (dag === undefined) {
        const close = closeIds(
          dagId,
          bag.dags.map((d) => d.dag_id),
        );
        const hint =
          close.length > 0
            ? ` Did you mean ${close.map((c) => `"${c}"`).join(", ")}?`
            : " Run `updraft dags list` to see the DAG ids.";
        const errs =
          bag.importErrors.length > 0
            ? " Some DAG files failed to import: see `updraft dags list-import-errors`."
            : "";
        throw new UpdraftError(
          "DAG_NOT_FOUND",
          `DAG "${dagId}" was not found in ${displayPath(bag.folder)}.${hint}${errs}`,
          {
            details: { dag_id: dagId, close },
          },
        );
      }
      if (opts.output === "json") printJson(dag);
      else process.stdout.write(formatDagText(dag));
    });

  dags
    .command("validate")
    .description("evaluate a DAG file or folder; exit 1 if any file has an import error")
    .argument("<path>", "a DAG file or a folder of DAG files")
    .action(async (path: string) => {
      const bag = await parse(resolve(path), true);
      for (const e of bag.importErrors) {
        process.stderr.write(`${formatLocated(e.filename, e.line, e.error.replace(/\n/g, "\n    "))}\n`);
      }
      const failed = new Set(bag.importErrors.map((e) => e.filename)).size;
      const summary = `${bag.dags.length} DAG${bag.dags.length === 1 ? "" : "s"} in ${bag.stats.files} file${bag.stats.files === 1 ? "" : "s"}`;
      if (failed > 0) {
        process.stderr.write(
          `Invalid: ${failed} file${failed === 1 ? "" : "s"} with errors (${summary} valid).\n`,
        );
        process.exitCode = 1;
      } else {
        process.stdout.write(`OK: ${summary}.\n`);
      }
    });
}
