// ExternalTaskMarker's load-time checks and what it serializes: the fields the clear service reads
// (test/api/external-task-marker.test.ts clears through them).
import { describe, expect, test } from "vitest";
import { isUpdraftError } from "../../common/errors.js";
import { serializeDag } from "../../model/serialize-dag.js";
import { dag } from "../dag.js";
import { takeRegisteredDags } from "../registry.js";
import { ExternalTaskMarker, type ExternalTaskMarkerOptions } from "./external-task-marker.js";

function serialized(o: Partial<ExternalTaskMarkerOptions>) {
  const d = dag({ dagId: "d" }, () => {
    new ExternalTaskMarker({ taskId: "m", externalDagId: "other", externalTaskId: "t", ...o });
  });
  takeRegisteredDags();
  return serializeDag(d, "/d.ts", "None").tasks[0]!;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    takeRegisteredDags();
    return isUpdraftError(err) ? err.code : String(err);
  }
  return undefined;
}

describe("ExternalTaskMarker", () => {
  test("serializes Airflow's defaults: the same logical date, recursion depth 10", () => {
    const t = serialized({});
    expect(t.operator).toBe("ExternalTaskMarker");
    expect(t.fields).toEqual({
      externalDagId: "other",
      externalTaskId: "t",
      logicalDate: "{{ logical_date }}",
      recursionDepth: 10,
    });
    expect(t.template_fields).toEqual(["externalDagId", "externalTaskId", "logicalDate"]);
  });

  test("takes executionDate as logicalDate's old name, and Dates as ISO text", () => {
    expect(serialized({ executionDate: "{{ ds }}" }).fields["logicalDate"]).toBe("{{ ds }}");
    expect(serialized({ logicalDate: new Date("2024-06-01T00:00:00Z") }).fields["logicalDate"]).toBe(
      "2024-06-01T00:00:00.000Z",
    );
    expect(serialized({ recursionDepth: 3 }).fields["recursionDepth"]).toBe(3);
  });

  test("refuses a missing target, both date names, and a depth below 1", () => {
    expect(codeOf(() => serialized({ externalTaskId: "" }))).toBe("INVALID_TASK");
    expect(codeOf(() => serialized({ logicalDate: "x", executionDate: "y" }))).toBe("INVALID_TASK");
    expect(codeOf(() => serialized({ recursionDepth: 0 }))).toBe("INVALID_TASK");
    expect(codeOf(() => serialized({ recursionDepth: 1.5 }))).toBe("INVALID_TASK");
  });
});
