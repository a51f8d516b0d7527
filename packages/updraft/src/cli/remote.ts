// The server half of forwarding (forward.ts is the client): runs a CLI command inside the process
// that holds the database open and returns what it printed. `updraft standalone` mounts it as
// `POST /api/v1/cli`, which the access hook opens to Admins only (permission cli:execute).
import { CommanderError } from "commander";
import type { CliResult } from "../api/rest/cli.js";
import { isUpdraftError } from "../common/errors.js";
import type { EngineEvents } from "../events/engine-events.js";
import type { Database } from "../db/index.js";
import type { CliContext } from "./commands/context.js";
import { debugEnabled } from "./errors.js";
import { buildProgram } from "./program.js";

export { cliRequestSchema, type CliRequest, type CliResult } from "../api/rest/cli.js";

export interface RunCliRemotelyOptions {
  /** The database the server holds open; commands use it instead of opening their own. */
  database: Database;
  /** The server's event bus (wakes its scheduler when a forwarded command changes state). */
  events?: EngineEvents;
  /** The caller's working directory (relative paths in argv); default the server's. */
  cwd?: string;
  /** Called with output as it is written, to stream it (the result holds all of it as well). */
  onOutput?: (stream: "stdout" | "stderr", text: string) => void;
}

/** `Error: <message> [CODE]`, as the terminal shows it (errors.ts), without touching the process. */
function formatError(err: unknown): string {
  if (isUpdraftError(err)) {
    const stack = debugEnabled() && err.stack !== undefined ? `${err.stack}\n` : "";
    return `Error: ${err.message} [${err.code}]\n${stack}`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return debugEnabled() && err instanceof Error && err.stack !== undefined
    ? `Error: unexpected failure: ${message}\n${err.stack}\n`
    : `Error: unexpected failure: ${message}\nRun again with UPDRAFT_DEBUG=1 on the server to see the stack trace.\n`;
}

/**
 * Runs `updraft <argv>` in this process against `options.database` and captures its output and
 * exit code. Only commands that use the database run here; any other is refused (it runs fine
 * where the user is). Never throws for a failing command, never exits the process.
 *
 * @example
 * ```ts
 * const { stdout, exit_code } = await runCliRemotely(["variables", "get", "k"], { database });
 * ```
 */
export async function runCliRemotely(
  argv: readonly string[],
  options: RunCliRemotelyOptions,
): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  let exitCode = 0;
  const out = (text: string): void => {
    stdout += text;
    options.onOutput?.("stdout", text);
  };
  const err = (text: string): void => {
    stderr += text;
    options.onOutput?.("stderr", text);
  };
  const ctx: CliContext = {
    io: { out, err, interactive: false },
    cwd: options.cwd ?? process.cwd(),
    argv,
    database: options.database,
    ...(options.events === undefined ? {} : { events: options.events }),
    setExitCode(code) {
      exitCode = code;
    },
  };
  const program = buildProgram(ctx);
  try {
    await program.parseAsync([...argv], { from: "user" });
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander printed its message (usage errors, --help) through configureOutput already.
      exitCode = e.exitCode;
    } else {
      err(formatError(e));
      exitCode = 1;
    }
  }
  return { stdout, stderr, exit_code: exitCode };
}
