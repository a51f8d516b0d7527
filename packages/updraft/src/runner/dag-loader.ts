// Loads a DAG file in the runner: transpiled by the processor's Transpiler (shared cache), imported
// once per content hash. A warm runner keeps what it imported, so its next task of the same file
// costs a few stat calls; an edited file has another hash and is imported afresh.
import { statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { UpdraftError } from "../common/errors.js";
import { Transpiler } from "../loader/transpile.js";
import type { BaseOperator } from "../sdk/base-operator.js";
import type { Dag } from "../sdk/dag.js";
import { takeRegisteredDags } from "../sdk/registry.js";

interface InputStamp {
  path: string;
  mtimeMs: number;
  size: number;
}

const transpilers = new Map<string, Transpiler>();
/** Content hash → the DAGs its module defined. ESM never re-runs a module, so this is the only copy. */
const modules = new Map<string, Map<string, Dag>>();
/** fileloc → the inputs seen at its last transpile, to skip even the transpiler's hashing. */
const stamps = new Map<string, { key: string; inputs: InputStamp[] }>();

/** Counters for tests and benchmarks. */
export const loaderStats = { imports: 0, transpiles: 0, hits: 0 };

/** `$UPDRAFT_HOME/cache/dags`, the processor's cache folder. */
export function defaultDagCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const home = env["UPDRAFT_HOME"];
  return join(home !== undefined && home !== "" ? home : join(homedir(), "updraft"), "cache", "dags");
}

function stampOf(path: string): InputStamp | undefined {
  try {
    const s = statSync(path);
    return { path, mtimeMs: s.mtimeMs, size: s.size };
  } catch {
    return undefined;
  }
}

function unchanged(inputs: readonly InputStamp[]): boolean {
  for (const old of inputs) {
    const now = stampOf(old.path);
    if (now === undefined || now.mtimeMs !== old.mtimeMs || now.size !== old.size) return false;
  }
  return true;
}

/** The DAGs defined by `fileloc`, by dag id. Throws `DAG_FILE_ERROR` when it does not compile or import. */
export async function loadDagFile(
  fileloc: string,
  cacheDir = defaultDagCacheDir(),
): Promise<Map<string, Dag>> {
  const seen = stamps.get(fileloc);
  if (seen !== undefined && unchanged(seen.inputs)) {
    const dags = modules.get(seen.key);
    if (dags !== undefined) {
      loaderStats.hits++;
      return dags;
    }
  }
  let transpiler = transpilers.get(cacheDir);
  if (transpiler === undefined) transpilers.set(cacheDir, (transpiler = new Transpiler(cacheDir)));
  // Stamps are taken before transpiling: an edit during the build makes the next task look again.
  const before = new Map<string, InputStamp | undefined>();
  if (seen !== undefined) for (const i of seen.inputs) before.set(i.path, stampOf(i.path));
  loaderStats.transpiles++;
  const result = await transpiler.transpile(fileloc);
  if (!result.ok) {
    throw new UpdraftError("DAG_FILE_ERROR", `DAG file ${fileloc} could not be compiled: ${result.error}`, {
      details: { fileloc, ...(result.line === undefined ? {} : { line: result.line }) },
    });
  }
  const inputs = result.inputs
    .map((p) => before.get(p) ?? stampOf(p))
    .filter((s): s is InputStamp => s !== undefined);
  stamps.set(fileloc, { key: result.key, inputs });
  const known = modules.get(result.key);
  if (known !== undefined) return known;
  takeRegisteredDags(); // anything left over belongs to no file
  loaderStats.imports++;
  try {
    await import(`${pathToFileURL(result.compiledPath).href}?v=${result.key.slice(0, 16)}`);
  } catch (err) {
    takeRegisteredDags();
    throw new UpdraftError(
      "DAG_FILE_ERROR",
      `DAG file ${fileloc} failed to import: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
        details: { fileloc },
      },
    );
  }
  const dags = new Map(takeRegisteredDags().map((d) => [d.dagId, d] as const));
  modules.set(result.key, dags);
  return dags;
}

/** The task `taskId` of DAG `dagId` in `fileloc`, or an error that says which is missing. */
export async function findTask(
  fileloc: string,
  dagId: string,
  taskId: string,
  cacheDir?: string,
): Promise<{ dag: Dag; task: BaseOperator }> {
  const dag = await findDag(fileloc, dagId, cacheDir);
  const task = dag.getTask(taskId);
  if (task === undefined) {
    throw new UpdraftError(
      "TASK_NOT_FOUND",
      `Task "${taskId}" was not found in DAG "${dagId}" (file ${fileloc}). The DAG file may have changed since the run was scheduled; tasks now: ${[...dag.tasks.keys()].slice(0, 20).join(", ") || "none"}.`,
      { details: { dag_id: dagId, task_id: taskId, fileloc } },
    );
  }
  return { dag, task };
}

export async function findDag(fileloc: string, dagId: string, cacheDir?: string): Promise<Dag> {
  const dags = await loadDagFile(fileloc, cacheDir);
  const dag = dags.get(dagId);
  if (dag === undefined) {
    throw new UpdraftError(
      "DAG_NOT_FOUND",
      `DAG "${dagId}" was not found in ${fileloc}. The file defines ${dags.size === 0 ? "no DAG" : [...dags.keys()].map((d) => `"${d}"`).join(", ")}; it may have changed since the run was scheduled.`,
      { details: { dag_id: dagId, fileloc } },
    );
  }
  return dag;
}
