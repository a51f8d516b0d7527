// partial().expand() on the operators of issue 13: each declares the fields it maps over, is
// built with a placeholder for them (its own checks let that through), serializes with the
// expansion, and refuses a field it cannot map. Their runs are in test/e2e/control-operators.test.ts.
import { describe, expect, test } from "vitest";
import { isUpdraftError } from "../../src/common/errors.js";
import { serializeDag } from "../../src/model/serialize-dag.js";
import {
  DateTimeSensor,
  EmailOperator,
  ExternalProcessOperator,
  ExternalTaskSensor,
  FileSensor,
  HttpOperator,
  HttpSensor,
  PostgresOperator,
  SQLExecuteQueryOperator,
  SqlSensor,
  TriggerDagRunOperator,
  dag,
  task,
} from "../../src/sdk/index.js";

describe("mapped operators", () => {
  test("every operator of issue 13 maps over its fields and serializes the expansion", () => {
    const d = dag({ dagId: "mapped" }, () => {
      const list = task("list", () => ["a", "b"]);
      const built = [
        SQLExecuteQueryOperator.partial({ taskId: "sql", connId: "wh" }).expand({
          sql: ["select 1", "select 2"],
        }),
        PostgresOperator.partial({ taskId: "pg", sql: "select $1" }).expand({ parameters: [["a"], ["b"]] }),
        HttpOperator.partial({ taskId: "http", httpConnId: "api" }).expand({ endpoint: list() }),
        EmailOperator.partial({ taskId: "email", subject: "s", htmlContent: "h" }).expand({
          to: ["a@x", "b@x"],
        }),
        ExternalProcessOperator.partial({ taskId: "proc" }).expand({ script: ["a.py", "b.py"] }),
        FileSensor.partial({ taskId: "file" }).expand({ filepath: ["a", "b"] }),
        HttpSensor.partial({ taskId: "hs", httpConnId: "api" }).expand({ endpoint: ["/a"] }),
        SqlSensor.partial({ taskId: "ss", connId: "wh" }).expand({ sql: ["select true"] }),
        DateTimeSensor.partial({ taskId: "dt" }).expand({ targetTime: ["2026-01-01T00:00:00Z"] }),
        TriggerDagRunOperator.partial({ taskId: "trig", triggerDagId: "x" }).expand({ conf: [{ a: 1 }] }),
        ExternalTaskSensor.partial({ taskId: "ext", externalDagId: "x" }).expand({
          externalTaskId: ["a", "b"],
        }),
      ];
      for (const op of built) expect(op.mapped).not.toBeNull();
    });
    const s = serializeDag(d, "/dags/mapped.ts", "None");
    const byId = Object.fromEntries(s.tasks.map((t) => [t.task_id, t]));
    expect(Object.keys(byId).sort()).toEqual(
      ["dt", "email", "ext", "file", "hs", "http", "list", "pg", "proc", "sql", "ss", "trig"].sort(),
    );
    expect(JSON.stringify(byId["http"])).toContain("list");
    expect(JSON.stringify(byId["sql"])).toContain("select 2");
  });

  test("a field an operator does not map is refused at DAG load", () => {
    let code: string | undefined;
    try {
      dag({ dagId: "bad" }, () => {
        TriggerDagRunOperator.partial({ taskId: "t", triggerDagId: "x" }).expand({
          waitForCompletion: [true],
        } as never);
      });
    } catch (err) {
      code = isUpdraftError(err) ? err.code : String(err);
    }
    expect(code).toBe("NOT_MAPPABLE");
  });
});
