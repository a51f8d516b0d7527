import { describe, expect, test } from "vitest";
import { dag } from "../sdk/dag.js";
import { takeRegisteredDags } from "../sdk/registry.js";
import { SerializedDagSchema } from "./serialized-dag.js";
import { serializeDag } from "./serialize-dag.js";

describe("serialized template settings", () => {
  // airflow/serialization/serialized_objects.py keeps render_template_as_native_obj for the API;
  // the DAG's macros and filters are code and stay in the DAG file, which the runner loads.
  test("marks render_template_as_native_obj only when set, keeping other DAGs' hashes", () => {
    const plain = serializeDag(
      dag({ dagId: "plain" }, () => undefined),
      "/d.ts",
      "None",
    );
    const native = serializeDag(
      dag(
        { dagId: "plain", renderTemplateAsNativeObj: true, userDefinedFilters: { f: (s: string) => s } },
        () => undefined,
      ),
      "/d.ts",
      "None",
    );
    const off = serializeDag(
      dag({ dagId: "plain", renderTemplateAsNativeObj: false }, () => undefined),
      "/d.ts",
      "None",
    );
    takeRegisteredDags();
    expect("render_template_as_native_obj" in plain).toBe(false);
    expect(native.render_template_as_native_obj).toBe(true);
    expect(off.dag_hash).toBe(plain.dag_hash);
    expect(native.dag_hash).not.toBe(plain.dag_hash);
    expect(SerializedDagSchema.parse(native).render_template_as_native_obj).toBe(true);
  });
});
