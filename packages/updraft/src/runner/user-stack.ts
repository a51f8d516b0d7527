// Error reports that show the user's code, not ours. The runner runs with source maps enabled and
// DAG files are compiled with inline source maps, so frames already name the user's .ts file and
// line; this keeps those frames and drops the runner's, the SDK's and Node's internals.
import { fileURLToPath } from "node:url";

/** This package's own code, built (`dist/`) or source-mapped back to `src/`. */
const PACKAGE_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const OWN = [`${PACKAGE_ROOT}dist/`, `${PACKAGE_ROOT}src/`];

function isUserFrame(line: string): boolean {
  if (!/^\s*at /.test(line)) return false;
  if (line.includes("node:") || line.includes("(native)") || line.includes("<anonymous>")) return false;
  const path = line.replace(/file:\/\//g, "");
  return !OWN.some((p) => path.includes(p));
}

function describeHead(err: unknown): string {
  if (err instanceof Error) {
    const name = err.name === "" ? "Error" : err.name;
    return `${name}: ${err.message}`;
  }
  return `A value that is not an Error was thrown: ${typeof err === "string" ? err : safeJson(err)}`;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

/** The user's frames of an error, innermost first, as `at …` lines. */
export function userFrames(err: unknown): string[] {
  if (!(err instanceof Error) || typeof err.stack !== "string") return [];
  return err.stack
    .split("\n")
    .filter(isUserFrame)
    .map((l) => `    ${l.trim().replace(/\?v=[^:)]*/, "")}`);
}

/** `/path/dag.ts:12:7` of the innermost user frame, if any. */
export function userLocation(err: unknown): string | undefined {
  const first = userFrames(err)[0];
  if (first === undefined) return undefined;
  const m = /\(([^()]+:\d+:\d+)\)$/.exec(first) ?? /at ([^\s()]+:\d+:\d+)$/.exec(first);
  return m?.[1];
}

/** The error, its user frames, and its causes, for the task log. */
export function formatUserError(err: unknown, depth = 0): string {
  const lines = [describeHead(err), ...userFrames(err)];
  const cause = err instanceof Error ? (err as { cause?: unknown }).cause : undefined;
  if (cause !== undefined && depth < 3) lines.push(`Caused by: ${formatUserError(cause, depth + 1)}`);
  return lines.join("\n");
}

/** A one-line message for the task instance's error field: the error and where the user's code threw it. */
export function errorSummary(err: unknown): string {
  const where = userLocation(err);
  return where === undefined ? describeHead(err) : `${describeHead(err)} (at ${where})`;
}
