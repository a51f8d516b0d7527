// Finds DAG files: a recursive walk that honours `.updraftignore` files (gitignore syntax, each
// relative to the folder that holds it, like Airflow's .airflowignore) and skips node_modules,
// dot-folders and type declarations. The order is sorted so that every run sees the same files
// in the same order (duplicate dag ids are reported against the later file).
import { readFile, readdir, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import ignore, { type Ignore } from "ignore";

export const IGNORE_FILE = ".updraftignore";

const DAG_FILE = /\.(?:ts|mts|js|mjs)$/;
const DECLARATION = /\.d\.(?:ts|mts)$/;

/** A file that may hold DAGs, with what `refresh()` compares to notice a change. */
export interface CandidateFile {
  path: string;
  mtimeMs: number;
  size: number;
}

interface IgnoreScope {
  dir: string;
  matcher: Ignore;
}

/** True when the file name has a DAG file extension (and is not a `.d.ts`). */
export function hasDagFileExtension(path: string): boolean {
  return DAG_FILE.test(path) && !DECLARATION.test(path);
}

/**
 * Safe mode (`core.dag_discovery_safe_mode`, as Airflow's DAG_DISCOVERY_SAFE_MODE): only files
 * that mention `updraft` are evaluated, so helper modules next to DAGs are not.
 */
export function looksLikeDagFile(content: string): boolean {
  return content.includes("updraft");
}

function ignored(scopes: readonly IgnoreScope[], path: string, isDir: boolean): boolean {
  for (const scope of scopes) {
    const rel = relative(scope.dir, path).split(sep).join("/");
    if (rel === "" || rel.startsWith("..")) continue;
    if (scope.matcher.ignores(isDir ? `${rel}/` : rel)) return true;
  }
  return false;
}

async function readIgnoreScope(dir: string): Promise<IgnoreScope | undefined> {
  try {
    const text = await readFile(join(dir, IGNORE_FILE), "utf8");
    return { dir, matcher: ignore().add(text) };
  } catch {
    return undefined;
  }
}

async function walk(
  dir: string,
  scopes: readonly IgnoreScope[],
  out: CandidateFile[],
  skip: ReadonlySet<string>,
): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return; // a folder removed or unreadable mid-walk simply has no DAG files
  }
  const own = entries.some((e) => e.name === IGNORE_FILE) ? await readIgnoreScope(dir) : undefined;
  const here = own === undefined ? scopes : [...scopes, own];
  const pending: Promise<void>[] = [];
  for (const entry of entries) {
    if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
    const path = join(dir, entry.name);
    if (skip.has(path)) continue;
    let isDir = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      const target = await stat(path).catch(() => undefined);
      isDir = target?.isDirectory() ?? false;
      isFile = target?.isFile() ?? false;
    }
    if (isDir) {
      if (!ignored(here, path, true)) pending.push(walk(path, here, out, skip));
    } else if (isFile && hasDagFileExtension(entry.name) && !ignored(here, path, false)) {
      pending.push(
        stat(path).then(
          (s) => void out.push({ path, mtimeMs: s.mtimeMs, size: s.size }),
          () => undefined,
        ),
      );
    }
  }
  await Promise.all(pending);
}

/**
 * Lists the files under `root` that may hold DAGs, sorted by path. When `root` is a file, it is
 * the only candidate (whatever its name), so `updraft dags validate file.ts` works. `skipDirs`
 * are never entered (the transpile cache may live inside the DAGs folder).
 */
export async function listCandidateFiles(
  root: string,
  options: { skipDirs?: readonly string[] } = {},
): Promise<CandidateFile[]> {
  const abs = resolve(root);
  const s = await stat(abs);
  if (s.isFile()) return [{ path: abs, mtimeMs: s.mtimeMs, size: s.size }];
  const out: CandidateFile[] = [];
  await walk(abs, [], out, new Set((options.skipDirs ?? []).map((d) => resolve(d))));
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** The DAG files under `root`, sorted; with `safeMode`, only those that mention `updraft`. */
export async function discoverDagFiles(
  root: string,
  options: { safeMode?: boolean } = {},
): Promise<string[]> {
  const candidates = await listCandidateFiles(root);
  if (options.safeMode === false) return candidates.map((c) => c.path);
  const keep = await Promise.all(
    candidates.map(async (c) => looksLikeDagFile(await readFile(c.path, "utf8").catch(() => ""))),
  );
  return candidates.filter((_, i) => keep[i]).map((c) => c.path);
}
