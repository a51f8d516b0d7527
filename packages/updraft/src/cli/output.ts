// Printing for people (aligned tables) and for programs (JSON).
import { relative } from "node:path";

/** Prints rows under a header, each column padded to its widest cell. */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n") + "\n";
}

export function printTable(headers: readonly string[], rows: readonly (readonly string[])[]): void {
  process.stdout.write(formatTable(headers, rows));
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** A path relative to the working directory when that is shorter, for people to read. */
export function displayPath(path: string, base = process.cwd()): string {
  const rel = relative(base, path);
  return rel === "" || rel.startsWith("..") ? path : rel;
}

/** `file:line: message`, the form editors and terminals link. */
export function formatLocated(filename: string, line: number | undefined, message: string): string {
  if (line === undefined) return `${displayPath(filename)}: ${message}`;
  // The position is in front already; drop the " (line N, column M)" the message carries for JSON.
  const text = message.replace(` (line ${line}, column `, "\0").replace(/\0\d+\)/, "");
  return `${displayPath(filename)}:${line}: ${text}`;
}
