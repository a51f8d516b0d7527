// ExternalTaskSensor's parts that need no server: its load-time refusals, the logical dates it
// looks at, how it reads the counts, and that an unreachable API server is "not yet".
import { describe, expect, test } from "vitest";
import { UpdraftError, isUpdraftError } from "../../common/errors.js";
import type { ExecuteInput } from "../base-operator.js";
import type { StateCountQuery, StateCounts } from "../dag-runs.js";
import { dag } from "../dag.js";
import { ExternalTaskSensor, type ExternalTaskSensorOptions } from "./external-task.js";

function sensor(o: Partial<ExternalTaskSensorOptions>): ExternalTaskSensor {
  let made: ExternalTaskSensor | undefined;
  dag({ dagId: "d" }, () => {
    made = new ExternalTaskSensor({ taskId: "s", externalDagId: "up", ...o });
  });
  return made!;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isUpdraftError(err) ? err.code : String(err);
  }
  return undefined;
}

function input(
  s: ExternalTaskSensor,
  answer: (q: StateCountQuery) => StateCounts,
): {
  input: ExecuteInput;
  asked: StateCountQuery[];
} {
  const asked: StateCountQuery[] = [];
  const ctx = {
    logical_date: new Date("2026-05-01T10:00:00Z"),
    dagRuns: {
      countStates: (q: StateCountQuery) => {
        asked.push(q);
        return Promise.resolve(answer(q));
      },
    },
  };
  return {
    input: { ctx: ctx as never, fields: { ...s.fields }, signal: new AbortController().signal },
    asked,
  };
}

describe("ExternalTaskSensor", () => {
  test("refuses contradictory options when the DAG file loads", () => {
    expect(codeOf(() => sensor({ externalTaskId: "a", externalTaskIds: ["b"] }))).toBe("INVALID_TASK");
    expect(codeOf(() => sensor({ externalTaskId: "a", externalTaskGroupId: "g" }))).toBe("INVALID_TASK");
    expect(codeOf(() => sensor({ executionDelta: "1h", executionDateFn: (d) => d }))).toBe("INVALID_TASK");
    expect(codeOf(() => sensor({ externalTaskId: "a", allowedStates: ["sucess"] }))).toBe("INVALID_TASK");
    expect(codeOf(() => sensor({ externalTaskId: "a", failedStates: ["success"] }))).toBe("INVALID_TASK");
    // Without a task, states are DAG run states.
    expect(codeOf(() => sensor({ allowedStates: ["upstream_failed"] }))).toBe("INVALID_TASK");
  });

  test("looks at the shifted logical date and is done when every pair is allowed", async () => {
    const s = sensor({ externalTaskIds: ["a", "b"], executionDelta: "1h", failedStates: ["failed"] });
    const done = input(s, (q) =>
      q.states.includes("failed") ? { expected: 2, all: 0, any: 0 } : { expected: 2, all: 2, any: 2 },
    );
    expect(await s.poke(done.input)).toBe(true);
    expect(done.asked.map((q) => [q.taskIds, q.states, q.logicalDates.map((d) => d.toISOString())])).toEqual([
      [["a", "b"], ["failed"], ["2026-05-01T09:00:00.000Z"]],
      [["a", "b"], ["success"], ["2026-05-01T09:00:00.000Z"]],
    ]);
    const half = input(s, () => ({ expected: 2, all: 1, any: 1 }));
    await expect(s.poke(half.input)).rejects.toMatchObject({ code: "EXTERNAL_TASK_FAILED" });
  });

  test("treats an unreachable API server as not yet, and a missing DAG as a failure", async () => {
    const s = sensor({ externalTaskId: "a" });
    const down = input(s, () => {
      throw new UpdraftError("EXECUTION_API_UNREACHABLE", "no answer");
    });
    expect(await s.poke(down.input)).toBe(false);
    const gone = input(s, () => {
      throw new UpdraftError("DAG_NOT_FOUND", "no DAG");
    });
    await expect(s.poke(gone.input)).rejects.toMatchObject({ code: "DAG_NOT_FOUND" });
  });
});
