import { readdir, stat } from "node:fs/promises";
import { isAbsolute, join, relative, sep } from "node:path";
import { UpdraftError } from "../../common/errors.js";
import type { ExecuteInput } from "../base-operator.js";
import { pick } from "../operators/sql.js";
import { triggers, type TriggerSpec } from "../triggers.js";
import { BaseSensorOperator, type BaseSensorOptions } from "./base-sensor.js";
import { mappedOperator, type MappedBuilder } from "../mapping.js";

/** Options of {@link FileSensor}. */
export interface FileSensorOptions extends BaseSensorOptions {
  /** A path or glob (`*`, `?`, `[abc]`, `**` with recursive), templated; relative to the connection's path. */
  filepath: string;
  /** A connection of conn_type `fs` whose extra `path` is the base folder. Without it, `filepath` is used as it is. */
  fsConnId?: string;
  /** `**` matches across folders, and a matching folder counts when it holds a file. Default false. */
  recursive?: boolean;
}

const GLOB_CHARS = /[*?[]/;

/** A glob as a regular expression over `/`-separated relative paths. */
export function globToRegExp(glob: string, recursive: boolean): RegExp {
  let re = "";
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? "";
    if (c === "*" && glob[i + 1] === "*" && recursive) {
      re += glob[i + 2] === "/" ? "(?:.*/)?" : ".*";
      i += glob[i + 2] === "/" ? 2 : 1;
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end === -1) re += "\\[";
      else {
        re += `[${glob
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\")}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

async function walk(dir: string, out: string[], deep: boolean): Promise<void> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    out.push(p);
    if (deep && e.isDirectory()) await walk(p, out, deep);
  }
}

/** Paths matching `pattern` (absolute); a plain path matches itself when it exists. */
export async function globPaths(pattern: string, recursive: boolean): Promise<string[]> {
  const parts = pattern.split("/");
  const firstGlob = parts.findIndex((p) => GLOB_CHARS.test(p));
  if (firstGlob === -1)
    return (await stat(pattern).then(
      () => true,
      () => false,
    ))
      ? [pattern]
      : [];
  const root = parts.slice(0, firstGlob).join("/") || "/";
  const rest = parts.slice(firstGlob).join("/");
  const deep = recursive || parts.length - firstGlob > 1;
  const all: string[] = [];
  await walk(root, all, deep);
  const re = globToRegExp(rest, recursive);
  return all.filter((p) => re.test(relative(root, p).split(sep).join("/")));
}

/**
 * Waits for a file or folder — or any match of a glob — to exist (Airflow's `FileSensor`). A
 * folder counts when it is not empty.
 *
 * @example
 * ```ts
 * new FileSensor({ taskId: "wait_drop", fsConnId: "landing", filepath: "sales/{{ ds }}/*.csv", pokeInterval: "30s" });
 * ```
 */
export class FileSensor extends BaseSensorOperator {
  readonly operatorName = "FileSensor";
  static readonly mappableFields = ["filepath"] as const;

  /**
   * Starts a mapped FileSensor: fixed options now, one task instance per value in `expand`.
   *
   * @example
   * ```ts
   * FileSensor.partial({ taskId: "wait", pokeInterval: "30s" }).expand({ filepath: ["a.csv", "b.csv"] });
   * ```
   */
  static partial(
    options: Partial<FileSensorOptions> & { taskId: string },
  ): MappedBuilder<FileSensorOptions, "filepath"> {
    return mappedOperator(FileSensor, options, FileSensor.mappableFields);
  }
  readonly templateFields = ["filepath"] as const;
  constructor(options: FileSensorOptions) {
    super(options, pick(options, ["filepath", "fsConnId", "recursive"]), [
      "filepath",
      "fsConnId",
      "recursive",
    ]);
  }

  protected override deferralRefusal(): string | null {
    return null;
  }

  /** The trigger gets the full path, so the triggerer needs no connection. */
  protected override async trigger(input: ExecuteInput): Promise<TriggerSpec> {
    const f = input.fields;
    return triggers.file({
      filepath: await this.fullPath(input),
      recursive: f.recursive === true,
      pokeIntervalS: Math.max(0.05, this.pokeIntervalMs / 1000),
    });
  }

  async poke(input: ExecuteInput): Promise<boolean> {
    const f = input.fields;
    const full = await this.fullPath(input);
    console.log(`Poking for file ${full}`);
    const found = await fileFound(full, f.recursive === true);
    // Airflow's FileSensor words, which users grep their logs for.
    if (found !== null)
      console.log(
        found.kind === "file" ? `Found file ${found.path}` : `Found folder ${found.path} with content`,
      );
    return found !== null;
  }

  private async fullPath(input: ExecuteInput): Promise<string> {
    const f = input.fields;
    let base = "";
    if (typeof f.fsConnId === "string") {
      const conn = await input.ctx.conn.get(f.fsConnId);
      if (conn.conn_type !== "fs")
        throw new UpdraftError(
          "CONNECTION_TYPE_MISMATCH",
          `Connection "${conn.conn_id}" has conn_type "${conn.conn_type}", but FileSensor needs "fs" (its extra "path" is the base folder).`,
          { details: { conn_id: conn.conn_id, conn_type: conn.conn_type, expected: "fs" } },
        );
      base = typeof conn.extra["path"] === "string" ? conn.extra["path"] : "";
    }
    const filepath = String(f.filepath ?? "");
    return base === "" || isAbsolute(filepath) ? filepath : join(base, filepath);
  }
}

/** What matches `full` (a path or glob): a file, or a folder with content; null when nothing does yet. */
export async function fileFound(
  full: string,
  recursive: boolean,
): Promise<{ path: string; kind: "file" | "folder" } | null> {
  for (const path of await globPaths(full, recursive)) {
    const s = await stat(path).catch(() => null);
    if (s === null) continue;
    if (s.isFile()) return { path, kind: "file" };
    if (s.isDirectory() && (await readdir(path)).length > 0) return { path, kind: "folder" };
  }
  return null;
}
