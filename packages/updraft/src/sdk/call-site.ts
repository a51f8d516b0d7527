import { fileURLToPath } from "node:url";

/**
 * This package's own files, built (`dist/`) or, through source maps, as sources (`src/`): frames
 * there are the SDK's, never the user's.
 */
const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OWN = [`${PACKAGE_ROOT}dist/`, `${PACKAGE_ROOT}src/`];

/**
 * Where in the user's file something was declared. The Error is created eagerly (cheap) and its
 * stack formatted only when a problem must be reported, because source-mapped stacks are slow.
 */
export class CallSite {
  private readonly error = new Error("call site");

  /**
   * The 1-based line of the declaration: the first frame in `fileloc` when given, else the first
   * frame outside this package.
   */
  line(fileloc?: string): number | undefined {
    return this.frame(fileloc)?.line;
  }

  /**
   * The file of the declaration (the first frame outside this package): the DAG file, as source
   * maps name it, so that operators can find files next to it (a SparkApplication manifest).
   */
  file(): string | undefined {
    return this.frame()?.file;
  }

  private frame(fileloc?: string): { file: string; line: number } | undefined {
    for (const frame of (this.error.stack ?? "").split("\n").slice(1)) {
      const m = /\(?((?:file:\/\/)?[^()]+):(\d+):\d+\)?\s*$/.exec(frame.trim());
      if (!m?.[1] || !m[2]) continue;
      const raw = m[1].replace(/^at\s+/, "").replace(/\?.*$/, "");
      const file = raw.startsWith("file://") ? fileURLToPath(raw) : raw;
      if (
        fileloc !== undefined
          ? file === fileloc
          : !OWN.some((p) => file.startsWith(p)) && !file.startsWith("node:")
      ) {
        return { file, line: Number(m[2]) };
      }
    }
    return undefined;
  }
}
