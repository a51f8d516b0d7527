// The pure parts of the operator library: statement splitting, globs, the last JSON line, the
// sensors' refusals and intervals, and LatestOnlyOperator's window. The operators' runs against
// real systems are in test/runner/operators.test.ts.
import { describe, expect, test } from "vitest";
import { isUpdraftError } from "../../common/errors.js";
import { splitStatements } from "../../hooks/split-statements.js";
import type { ExecuteInput } from "../base-operator.js";
import type { TaskContext } from "../context.js";
import { dag } from "../dag.js";
import { FileSensor, globToRegExp } from "../sensors/file.js";
import { TimeDeltaSensor } from "../sensors/time.js";
import { HttpSensor } from "../sensors/http.js";
import { lastJsonLine } from "./external-process.js";
import { LatestOnlyOperator } from "./latest-only.js";
import { BranchDayOfWeekOperator } from "./branch-day-of-week.js";
import { pythonTruthy } from "./sql-text.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isUpdraftError(err) ? err.code : `non-updraft: ${String(err)}`;
  }
  return undefined;
}

describe("splitStatements", () => {
  test("splits at semicolons outside quotes, dollar quotes and comments", () => {
    const sql = `insert into t values ('a;b'); -- note; here
create function f() returns int as $body$ select 1; $body$ language sql;
/* block; comment */ select "odd;name" from t;;
-- only a comment;`;
    expect(splitStatements(sql)).toEqual([
      "insert into t values ('a;b')",
      "-- note; here\ncreate function f() returns int as $body$ select 1; $body$ language sql",
      '/* block; comment */ select "odd;name" from t',
    ]);
  });
  test("keeps doubled quotes inside literals", () => {
    expect(splitStatements("select 'it''s; fine'; select 2")).toEqual(["select 'it''s; fine'", "select 2"]);
  });
});

describe("globs", () => {
  test("* and ? stay within a folder; ** crosses folders only when recursive", () => {
    expect(globToRegExp("*.csv", false).test("a.csv")).toBe(true);
    expect(globToRegExp("*.csv", false).test("in/a.csv")).toBe(false);
    expect(globToRegExp("in/?.csv", false).test("in/a.csv")).toBe(true);
    expect(globToRegExp("**/*.csv", true).test("x/y/a.csv")).toBe(true);
    expect(globToRegExp("**/*.csv", true).test("a.csv")).toBe(true);
    expect(globToRegExp("[ab].txt", false).test("c.txt")).toBe(false);
    expect(globToRegExp("[!ab].txt", false).test("c.txt")).toBe(true);
  });
});

test("the last JSON line of stdout wins; none gives no value", () => {
  expect(lastJsonLine(['{"a":1}', "[1,2]", "text", ""])).toEqual({ found: true, value: [1, 2] });
  expect(lastJsonLine(["hello", "world"])).toEqual({ found: false, value: undefined });
});

test("Python truthiness of database values", () => {
  expect([0, "0", "0.00", "", null, false].map(pythonTruthy)).toEqual([
    false,
    false,
    false,
    false,
    false,
    false,
  ]);
  expect([1, "12", "x", true, new Date(0)].map(pythonTruthy)).toEqual([true, true, true, true, true]);
});

describe("sensors", () => {
  test("an unknown mode, and deferrable with functions the triggerer cannot run, are refused at DAG load", () => {
    let message = "";
    const code = codeOf(() =>
      dag({ dagId: "s1" }, () => {
        try {
          new HttpSensor({ taskId: "h", endpoint: "/x", deferrable: true, responseCheck: () => true });
        } catch (err) {
          message = String(err);
          throw err;
        }
      }),
    );
    expect(code).toBe("SENSOR_MODE_UNSUPPORTED");
    expect(message).toContain('Use mode "reschedule"');
    expect(
      codeOf(() =>
        dag({ dagId: "s2" }, () => new FileSensor({ taskId: "f", filepath: "/x", mode: "wait" as "poke" })),
      ),
    ).toBe("SENSOR_MODE_UNSUPPORTED");
    // The modes that exist are accepted.
    dag({ dagId: "s2b" }, () => {
      new FileSensor({ taskId: "r", filepath: "/x", mode: "reschedule" });
      new FileSensor({ taskId: "d", filepath: "/x", deferrable: true });
    });
  });

  test("exponentialBackoff doubles the wait up to maxWait", () => {
    let s: TimeDeltaSensor | undefined;
    dag({ dagId: "s3" }, () => {
      s = new TimeDeltaSensor({
        taskId: "t",
        delta: "1h",
        pokeInterval: "1s",
        exponentialBackoff: true,
        maxWait: "5s",
      });
    });
    expect([1, 2, 3, 4, 5].map((n) => s?.nextInterval(n))).toEqual([1000, 2000, 4000, 5000, 5000]);
  });
});

function input(ctx: Partial<TaskContext>, fields: Record<string, unknown> = {}): ExecuteInput {
  return { ctx: ctx as TaskContext, fields, signal: new AbortController().signal };
}

describe("control operators", () => {
  test("LatestOnlyOperator skips downstream in a scheduled run that is not the latest", async () => {
    let op: LatestOnlyOperator | undefined;
    dag({ dagId: "l" }, () => {
      op = new LatestOnlyOperator({ taskId: "latest" });
      op.before(new LatestOnlyOperator({ taskId: "after" }));
    });
    const day = 86_400_000;
    const now = Date.now();
    const at = (endAgo: number) =>
      input({
        dag_run: { run_type: "scheduled" } as TaskContext["dag_run"],
        data_interval_start: new Date(now - endAgo - day),
        data_interval_end: new Date(now - endAgo),
      });
    expect(await op?.execute(at(3 * day))).toEqual([]);
    expect(await op?.execute(at(day / 2))).toEqual(["after"]);
  });

  test("BranchDayOfWeekOperator refuses an unknown day and tests the logical date in UTC", async () => {
    expect(
      codeOf(() =>
        dag(
          { dagId: "b1" },
          () =>
            new BranchDayOfWeekOperator({
              taskId: "b",
              weekDay: "Funday",
              followTaskIdsIfTrue: "a",
              followTaskIdsIfFalse: "c",
            }),
        ),
      ),
    ).toBe("INVALID_TASK");
    let op: BranchDayOfWeekOperator | undefined;
    dag({ dagId: "b2" }, () => {
      op = new BranchDayOfWeekOperator({
        taskId: "b",
        weekDay: ["saturday", "Sunday"],
        followTaskIdsIfTrue: ["we"],
        followTaskIdsIfFalse: "wd",
        useTaskLogicalDate: true,
      });
    });
    const fields = { followTaskIdsIfTrue: ["we"], followTaskIdsIfFalse: "wd", useTaskLogicalDate: true };
    expect(await op?.execute(input({ logical_date: new Date("2026-02-07T23:30:00Z") }, fields))).toEqual([
      "we",
    ]);
    expect(await op?.execute(input({ logical_date: new Date("2026-02-09T00:30:00Z") }, fields))).toEqual([
      "wd",
    ]);
  });
});
