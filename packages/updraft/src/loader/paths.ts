// Where the processor finds this package's own files and where it keeps its cache. Paths are
// derived from this module's URL so that DAG folders anywhere on disk resolve `updraft` to the
// very build that is running.
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** `UPDRAFT_HOME`, defaulting to `~/updraft`. */
export function updraftHome(env: NodeJS.ProcessEnv = process.env): string {
  const home = env["UPDRAFT_HOME"];
  return home !== undefined && home !== "" ? home : join(homedir(), "updraft");
}

/** Where transpiled DAG files are cached unless an option says otherwise. */
export function defaultCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(updraftHome(env), "cache", "dags");
}

/**
 * The built package (`dist/`). Children and user code always run the build; when this module
 * itself runs from `src/` (tests), the build beside it is used.
 */
const DIST = /\/src\/loader\/[^/]+$/.test(new URL(import.meta.url).pathname)
  ? new URL("../../dist/", import.meta.url)
  : new URL("../", import.meta.url);

/** Absolute path of the built package entry (`dist/index.js`) that user code imports as `updraft`. */
export const UPDRAFT_ENTRY = fileURLToPath(new URL("index.js", DIST));

/** The script each evaluation child runs. */
export const EVALUATE_CHILD_SCRIPT = fileURLToPath(new URL("processor/evaluate-child.js", DIST));

/** This package's version, part of every cache key so that an upgrade re-transpiles. */
export { UPDRAFT_VERSION } from "../common/version.js";
