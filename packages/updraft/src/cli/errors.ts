// The CLI's last line of defence: a user sees what went wrong and what to do, never our stack.
import { isUpdraftError } from "../common/errors.js";

export function debugEnabled(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env["UPDRAFT_DEBUG"];
  return v !== undefined && v !== "" && v !== "0" && v.toLowerCase() !== "false";
}

/** Prints `err` for a person and sets exit code 1. */
export function reportCliError(err: unknown): void {
  process.exitCode = 1;
  if (isUpdraftError(err)) {
    process.stderr.write(`Error: ${err.message} [${err.code}]\n`);
    if (debugEnabled() && err.stack !== undefined) process.stderr.write(`${err.stack}\n`);
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`Error: unexpected failure: ${message}\n`);
  if (debugEnabled()) {
    process.stderr.write(`${err instanceof Error && err.stack !== undefined ? err.stack : message}\n`);
  } else {
    process.stderr.write(
      "Run again with UPDRAFT_DEBUG=1 to see the stack trace, and report it if it looks like a bug.\n",
    );
  }
}
