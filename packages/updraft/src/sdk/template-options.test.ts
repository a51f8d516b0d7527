import { describe, expect, test } from "vitest";
import { UpdraftError } from "../common/errors.js";
import { dag } from "./dag.js";
import type { DagOptions } from "./options.js";
import { takeRegisteredDags } from "./registry.js";

function error(options: DagOptions): UpdraftError | undefined {
  try {
    dag(options, () => undefined);
  } catch (err) {
    if (err instanceof UpdraftError) return err;
    throw err;
  }
  return undefined;
}

describe("template options of a DAG", () => {
  // airflow/models/dag.py: DAG(render_template_as_native_obj, user_defined_macros, user_defined_filters)
  test("accepts Airflow's template settings", () => {
    takeRegisteredDags();
    const d = dag(
      {
        dagId: "tpl_ok",
        renderTemplateAsNativeObj: true,
        userDefinedMacros: { env: "prod", bucket: (ds: string) => `s3://b/${ds}` },
        userDefinedFilters: { upper: (s: string) => s.toUpperCase() },
      },
      () => undefined,
    );
    expect(d.options.renderTemplateAsNativeObj).toBe(true);
    takeRegisteredDags();
  });

  test("rejects wrong types and names with the option named", () => {
    const bool = error({ dagId: "t1", renderTemplateAsNativeObj: "yes" as unknown as boolean });
    expect(bool?.code).toBe("INVALID_DAG");
    expect(bool?.message).toContain('DAG "t1": renderTemplateAsNativeObj must be true or false');
    expect(
      error({ dagId: "t2", userDefinedMacros: [] as unknown as Record<string, unknown> })?.message,
    ).toContain("userDefinedMacros must be an object");
    expect(error({ dagId: "t3", userDefinedMacros: { "my-macro": 1 } })?.message).toContain(
      'userDefinedMacros name "my-macro" cannot be used in a template',
    );
    expect(
      error({ dagId: "t4", userDefinedFilters: { up: "x" as unknown as (v: never) => unknown } })?.message,
    ).toContain("userDefinedFilters.up must be a function");
    expect(error({ dagId: "t5", renderTemplateAsNatveObj: true } as DagOptions)?.code).toBe("UNKNOWN_OPTION");
    takeRegisteredDags();
  });
});
