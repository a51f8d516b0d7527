import { fileURLToPath } from "node:url";
import { dirname, sep } from "node:path";

const SDK_DIR = dirname(fileURLToPath(import.meta.url)) + sep;

/**
 * Where in the user's file something was declared. The Error is created eagerly (cheap) and its
 * stack formatted only when a problem must be reported, because source-mapped stacks are slow.
 */
export class CallSite {
  private readonly error = new Error("call site");

  /** The 1-based line of the first stack frame outside the SDK, if any. */
  line(): number | undefined {
    for (const frame of (this.error.stack ?? "").split("\n").slice(1)) {
      const m = /\(?((?:file:\/\/)?[^()]+):(\d+):\d+\)?\s*$/.exec(frame);
      if (!m?.[1] || !m[2]) continue;
      const file = m[1].startsWith("file://") ? fileURLToPath(m[1]) : m[1];
      if (file.startsWith(SDK_DIR) || file.startsWith("node:")) continue;
      return Number(m[2]);
    }
    return undefined;
  }
}
