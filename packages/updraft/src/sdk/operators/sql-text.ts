import { readFileSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import { UpdraftError } from "../../common/errors.js";
import type { BaseOperator, ExecuteInput } from "../base-operator.js";

/**
 * The statements of a `sql` field: text as given, or for a value ending in `.sql` the file's
 * content (relative to the DAG file's folder), rendered as a template as Airflow's `template_ext`.
 */
export function sqlStatements(op: BaseOperator, input: ExecuteInput, field = "sql"): string[] {
  const raw = input.fields[field];
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((s, i) => {
    if (typeof s !== "string" || s.trim() === "")
      throw new UpdraftError(
        "INVALID_TASK",
        `${op.operatorName} "${op.taskId}": ${field}${Array.isArray(raw) ? `[${i}]` : ""} must be SQL text or a .sql file name.`,
      );
    if (!/\.sql$/i.test(s.trim())) return s;
    const dagFile = op.callSite.file();
    const path = isAbsolute(s.trim())
      ? s.trim()
      : resolve(dagFile === undefined ? process.cwd() : dirname(dagFile), s.trim());
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      throw new UpdraftError(
        "INVALID_TASK",
        `${op.operatorName} "${op.taskId}": cannot read SQL file ${path}: ${(err as Error).message}. Files are found relative to the DAG file.`,
      );
    }
    return input.render ? input.render(text, field) : text;
  });
}

/** Python's bool() on a database value, as SQLCheckOperator tests each cell. */
export function pythonTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === "" || v === 0n) return false;
  if (typeof v === "string" && /^-?0+(\.0+)?$/.test(v)) return false; // numeric/int8 come as strings
  if (Array.isArray(v)) return v.length > 0;
  return true;
}
