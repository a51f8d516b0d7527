// Checks the DAG options that shape its templates (renderTemplateAsNativeObj, userDefinedMacros,
// userDefinedFilters) when the DAG file is loaded, so a mistake is reported by the DAG processor
// with the DAG's name rather than when a task renders.
import { UpdraftError } from "../common/errors.js";
import type { DagOptions } from "./options.js";

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object") return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function invalid(dagId: string, message: string): UpdraftError {
  return new UpdraftError("INVALID_DAG", `DAG "${dagId}": ${message}`, { details: { dag_id: dagId } });
}

/** Throws INVALID_DAG naming the option and what it needs. */
export function checkTemplateOptions(options: DagOptions): void {
  const id = options.dagId;
  const native = options.renderTemplateAsNativeObj;
  if (native !== undefined && typeof native !== "boolean")
    throw invalid(id, `renderTemplateAsNativeObj must be true or false, got ${JSON.stringify(native)}.`);
  for (const option of ["userDefinedMacros", "userDefinedFilters"] as const) {
    const value = options[option];
    if (value === undefined) continue;
    if (!isPlainObject(value))
      throw invalid(
        id,
        `${option} must be an object of names to ${option === "userDefinedFilters" ? "functions" : "values or functions"}.`,
      );
    for (const [name, v] of Object.entries(value)) {
      if (!NAME.test(name))
        throw invalid(
          id,
          `${option} name "${name}" cannot be used in a template; use letters, digits and _ (not starting with a digit).`,
        );
      if (option === "userDefinedFilters" && typeof v !== "function")
        throw invalid(
          id,
          `userDefinedFilters.${name} must be a function (value, ...args) => result, got ${typeof v}.`,
        );
    }
  }
}
