/**
 * The Database handles of this process that are open, so that a test can fail when it leaks one
 * (packages/updraft/test/setup/leaks.ts). A set insert on open and a delete on close: nothing on
 * the query path.
 */

/** @internal */
export interface OpenDatabaseInfo {
  readonly dialect: "postgres" | "pglite";
  /** `host:port/database`, the data directory, or "memory". */
  readonly where: string;
  /** The first frames of the opener's stack outside src/db/, to find the code that leaked it. */
  readonly openedAt: string;
}

const open = new Set<OpenDatabaseInfo>();

/** @internal Records an open handle; returns the function that forgets it (call it on close). */
export function trackOpenDatabase(dialect: OpenDatabaseInfo["dialect"], where: string): () => void {
  const info: OpenDatabaseInfo = { dialect, where, openedAt: callerFrames() };
  open.add(info);
  return () => open.delete(info);
}

/** @internal The Database handles opened in this process and not closed yet, oldest first. */
export function openDatabaseHandles(): readonly OpenDatabaseInfo[] {
  return [...open];
}

function callerFrames(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 30;
  const stack = new Error().stack ?? "";
  Error.stackTraceLimit = limit;
  const frames = stack
    .split("\n")
    .slice(1)
    .map((line) => line.trim().replace(/^at /, ""))
    .filter((line) => !/[/\\]db[/\\][^/\\]+\.[jt]s|node:internal|node_modules/.test(line));
  return frames.slice(0, 3).join(" ← ") || "(unknown)";
}
