// Finds where in the user's code an exception was thrown, from a (source-mapped) stack.
import { fileURLToPath } from "node:url";

const FRAME = /(?:\(|at )((?:file:\/\/)?\/[^():]*?):(\d+):(\d+)\)?$/;

function framePath(raw: string): string {
  if (!raw.startsWith("file://")) return raw;
  try {
    return fileURLToPath(raw.replace(/\?.*$/, ""));
  } catch {
    return raw;
  }
}

/** This package's built code (`dist/`): frames there are the SDK's, not the user's. */
const OWN_DIST = fileURLToPath(new URL("..", import.meta.url));

function isOwnFrame(path: string): boolean {
  return path.startsWith(OWN_DIST) || path.includes("/node_modules/");
}

/**
 * The 1-based line of the first stack frame in `fileloc`; when the user's code failed in a helper
 * module instead, `elsewhere` names that frame (`path:line:column`).
 */
export function userFrameLine(
  err: unknown,
  fileloc: string,
): { line?: number; column?: number; elsewhere?: string } {
  const stack = err instanceof Error && typeof err.stack === "string" ? err.stack : "";
  let elsewhere: string | undefined;
  for (const text of stack.split("\n")) {
    const m = FRAME.exec(text.trim());
    if (m === null) continue;
    const path = framePath(m[1] ?? "");
    if (path === fileloc) return { line: Number(m[2]), column: Number(m[3]) };
    if (elsewhere === undefined && !isOwnFrame(path) && !path.startsWith("node:")) {
      elsewhere = `${path}:${m[2]}:${m[3]}`;
    }
  }
  return elsewhere === undefined ? {} : { elsewhere };
}
