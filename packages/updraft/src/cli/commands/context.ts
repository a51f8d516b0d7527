// What every command writes through and runs in. The same command tree runs in the user's
// process (output to the terminal) and inside the server for a forwarded command (output
// captured and sent back), so commands never touch process.stdout or process.exit themselves.
import { isAbsolute, resolve } from "node:path";
import type { Command } from "commander";
import { UpdraftError } from "../../common/errors.js";
import type { Database } from "../../db/index.js";
import type { EngineEvents } from "../../events/engine-events.js";
import { formatTable } from "../output.js";

export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** Whether `err` is a terminal that can redraw a progress bar. */
  readonly interactive: boolean;
}

export interface CliContext {
  readonly io: CliIO;
  /** The user's working directory: relative paths in arguments are resolved against it. */
  readonly cwd: string;
  /** The arguments after `updraft`, as the user typed them (what gets forwarded). */
  readonly argv: readonly string[];
  /** Set inside the server: the database it holds open. Commands never open their own then. */
  readonly database?: Database;
  /** Set inside the server: its event bus, so a forwarded trigger wakes the scheduler at once. */
  readonly events?: EngineEvents;
  /** Sets the exit code without ending anything (process.exitCode locally, the reply remotely). */
  setExitCode(code: number): void;
}

/** The terminal's context: process streams and process.exitCode. */
export function localContext(argv: readonly string[]): CliContext {
  return {
    io: {
      out: (text) => void process.stdout.write(text),
      err: (text) => void process.stderr.write(text),
      interactive: process.stderr.isTTY,
    },
    cwd: process.cwd(),
    argv,
    setExitCode(code) {
      process.exitCode = code;
    },
  };
}

/** Commands that use the metadata database: the only ones that may run inside the server. */
const DB_COMMANDS = new WeakSet<Command>();

export function usesDatabase(command: Command): Command {
  DB_COMMANDS.add(command);
  return command;
}

export function isDatabaseCommand(command: Command): boolean {
  return DB_COMMANDS.has(command);
}

export function printTable(
  ctx: CliContext,
  headers: readonly string[],
  rows: readonly (readonly string[])[],
): void {
  ctx.io.out(formatTable(headers, rows));
}

export function printJson(ctx: CliContext, value: unknown): void {
  ctx.io.out(`${JSON.stringify(value, null, 2)}\n`);
}

export function resolvePath(ctx: CliContext, path: string): string {
  return isAbsolute(path) ? path : resolve(ctx.cwd, path);
}

/** ISO text for JSON and tables; null stays null (JSON) or "" (tables). */
export function iso(date: Date | null | undefined): string | null {
  return date === null || date === undefined ? null : date.toISOString();
}

export function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  if (value instanceof Date) return value.toISOString();
  return typeof value === "string" ? value : JSON.stringify(value);
}

/**
 * A date option: ISO 8601 (`2026-01-31`, `2026-01-31T06:00:00Z`). A date without a zone is UTC.
 * Anything else is DATE_INVALID naming the option.
 */
export function parseDateOption(option: string, value: string): Date {
  const text = value.trim();
  const ok = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text);
  const withZone = /(Z|[+-]\d{2}:?\d{2})$/.test(text) || !/[T ]/.test(text) ? text : `${text}Z`;
  const date = ok ? new Date(withZone.replace(" ", "T")) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) {
    throw new UpdraftError(
      "DATE_INVALID",
      `${option} ${JSON.stringify(value)} is not a date: use ISO 8601, such as 2026-01-31 or 2026-01-31T06:00:00Z.`,
      { details: { option, value } },
    );
  }
  return date;
}

/** A whole number option (`--older-than 30`, pool slots); INVALID_NUMBER otherwise. */
export function parseIntOption(option: string, value: string, min: number): number {
  const n = /^-?\d+$/.test(value.trim()) ? Number.parseInt(value, 10) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min) {
    throw new UpdraftError(
      "INVALID_NUMBER",
      `${option} must be a whole number >= ${min} (got ${JSON.stringify(value)}).`,
      { details: { option, value } },
    );
  }
  return n;
}

/** Refusal of a destructive command run without --yes. */
export function confirmationRequired(what: string): UpdraftError {
  return new UpdraftError("CONFIRMATION_REQUIRED", `${what} Nothing was changed. Add --yes to confirm.`);
}
