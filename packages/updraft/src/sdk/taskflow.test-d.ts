// Type tests: checked by `tsc` (npm run typecheck) and by vitest's typecheck mode. Each
// `@ts-expect-error` must see an error, so these fail if the types stop catching the mistake.
import { describe, expectTypeOf, test } from "vitest";
import { dag } from "./dag.js";
import { BashOperator } from "./operators/bash.js";
import { KubernetesPodOperator } from "./operators/kubernetes.js";
import { task } from "./taskflow.js";
import type { TaskContext } from "./context.js";
import type { XComArg } from "./xcom-arg.js";
import { TriggerRule } from "./trigger-rule.js";

interface Rec {
  id: number;
  amount: number;
}

describe("XCom types flow between TaskFlow tasks", () => {
  test("multipleOutputs: result.get(key) is typed from the return type", () => {
    const stats = task({ taskId: "stats", multipleOutputs: true }, () => ({ total: 3, names: ["a"] }));
    const useTotal = task("use_total", (_ctx, n: number) => n);
    const listing = task("listing", (): Rec[] => []);
    dag({ dagId: "types_outputs" }, () => {
      const s = stats();
      expectTypeOf(s.get("total")).toEqualTypeOf<XComArg<number>>();
      expectTypeOf(s.get("names")).toEqualTypeOf<XComArg<string[]>>();
      useTotal(s.get("total"));
      // @ts-expect-error string[] is not a number
      useTotal(s.get("names"));
      // @ts-expect-error the returned object has no "missing"
      s.get("missing");
      // @ts-expect-error a list has no keys to take
      listing().get("length");
    });
  });

  test("a task's call returns an XComArg of its awaited return type", () => {
    const extract = task("extract", (): Rec[] => []);
    const asyncCount = task("count", async (_ctx, rows: Rec[]) => rows.length);
    dag({ dagId: "types_1" }, () => {
      expectTypeOf(extract()).toEqualTypeOf<XComArg<Rec[]>>();
      expectTypeOf(asyncCount(extract())).toEqualTypeOf<XComArg<number>>();
    });
  });

  test("passing Rec[] where a string is expected does not compile", () => {
    const extract = task("extract", (): Rec[] => []);
    const validate = task("validate", (_ctx, raw: string) => raw.length);
    dag({ dagId: "types_2" }, () => {
      // @ts-expect-error Rec[] is not a string
      validate(extract());
      // @ts-expect-error a literal of the wrong type is refused too
      validate(42);
      validate("literal is fine");
    });
  });

  test("missing and extra arguments do not compile", () => {
    const add = task("add", (_ctx, a: number, b: number) => a + b);
    dag({ dagId: "types_3" }, () => {
      // @ts-expect-error b is missing
      add(1);
      // @ts-expect-error too many arguments
      add(1, 2, 3);
      add(1, 2);
    });
  });

  test("expand maps over lists of the argument type", () => {
    const listFiles = task("list", (): string[] => []);
    const size = task("size", (_ctx, path: string) => path.length);
    const add = task("add", (_ctx, a: number, b: number) => a + b);
    dag({ dagId: "types_4" }, () => {
      expectTypeOf(size.expand(listFiles())).toEqualTypeOf<XComArg<number[]>>();
      // @ts-expect-error a list of numbers cannot feed a string argument
      size.expand([1, 2, 3]);
      expectTypeOf(add.partial(10).expand([1, 2])).toEqualTypeOf<XComArg<number[]>>();
      // @ts-expect-error partial's fixed argument must be a number
      add.partial("ten").expand([1, 2]);
    });
  });

  test("the context is typed, with Airflow's names, and params can be typed", () => {
    task("ctx", (ctx) => {
      expectTypeOf(ctx.ds).toEqualTypeOf<string>();
      expectTypeOf(ctx.ti.try_number).toEqualTypeOf<number>();
      expectTypeOf(ctx.logical_date).toEqualTypeOf<Date>();
      // @ts-expect-error no such context key
      void ctx.execution_dat;
    });
    task("typed_params", (ctx: TaskContext<{ limit: number }>) => {
      expectTypeOf(ctx.params.limit).toEqualTypeOf<number>();
    });
  });

  test("options are checked at compile time", () => {
    // @ts-expect-error typo of retries
    task({ taskId: "t", retires: 3 }, () => 1);
    // @ts-expect-error not a trigger rule
    task({ taskId: "t", triggerRule: "all_sucess" }, () => 1);
    task({ taskId: "t", retries: 3, retryDelay: "5m", triggerRule: TriggerRule.ALL_DONE }, () => 1);
    dag({ dagId: "types_5" }, () => {
      // @ts-expect-error bashCommand is required
      new BashOperator({ taskId: "b" });
      // @ts-expect-error retries cannot be mapped
      BashOperator.partial({ taskId: "m" }).expand({ retries: [1, 2] });
      BashOperator.partial({ taskId: "m2" }).expand({ bashCommand: ["echo a", "echo b"] });
      new KubernetesPodOperator({ taskId: "k", image: "busybox", resources: { requests: { cpu: "1" } } });
    });
  });
});
