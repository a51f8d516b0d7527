import { describe, expect, test } from "vitest";
import { isUpdraftError } from "../common/errors.js";
import { chain } from "./chain.js";
import { dag } from "./dag.js";
import { BashOperator } from "./operators/bash.js";
import { EmptyOperator } from "./operators/empty.js";
import { takeRegisteredDags } from "./registry.js";
import { task } from "./taskflow.js";
import { taskGroup } from "./task-group.js";
import { TaskSkipped } from "./signals.js";

function edges(d: ReturnType<typeof dag>): string[] {
  return [...d.tasks.values()].flatMap((t) => [...t.downstreamTaskIds].map((x) => `${t.taskId}>${x}`)).sort();
}

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isUpdraftError(err) ? err.code : `non-updraft: ${String(err)}`;
  }
  return undefined;
}

describe("building DAGs", () => {
  test("TaskFlow calls make edges from XCom arguments and register the DAG", () => {
    takeRegisteredDags();
    const a = task("a", () => 1);
    const b = task("b", (_ctx, n: number) => n + 1);
    const d = dag({ dagId: "flow" }, () => {
      b(a());
    });
    expect(edges(d)).toEqual(["a>b"]);
    expect(takeRegisteredDags()).toEqual([d]);
  });

  test("before/after and chain wire lists pairwise and fan in/out", () => {
    const d = dag({ dagId: "wiring" }, () => {
      const [s, x, y, p, q, e] = ["s", "x", "y", "p", "q", "e"].map(
        (id) => new EmptyOperator({ taskId: id }),
      );
      chain(s!, [x!, y!], [p!, q!], e!);
      e!.after(s!);
    });
    expect(edges(d)).toEqual(["p>e", "q>e", "s>e", "s>x", "s>y", "x>p", "y>q"]);
  });

  test("calling a task twice gives Airflow's __1 suffix", () => {
    const t = task("t", () => 1);
    const d = dag({ dagId: "twice" }, () => {
      t();
      t();
    });
    expect([...d.tasks.keys()]).toEqual(["t", "t__1"]);
  });

  test("task groups prefix ids and wire their roots and leaves", () => {
    const d = dag({ dagId: "groups" }, () => {
      const start = new EmptyOperator({ taskId: "start" });
      const g = taskGroup("transform", () => {
        const u = new EmptyOperator({ taskId: "users" });
        const o = new EmptyOperator({ taskId: "orders" });
        u.before(o);
      });
      start.before(g).before(new EmptyOperator({ taskId: "end" }));
    });
    expect(edges(d)).toEqual([
      "start>transform.users",
      "transform.orders>end",
      "transform.users>transform.orders",
    ]);
  });

  test("defaultArgs apply unless the task overrides them", () => {
    const d = dag({ dagId: "defaults", defaultArgs: { retries: 3, owner: "team" } }, () => {
      new EmptyOperator({ taskId: "a" });
      new EmptyOperator({ taskId: "b", retries: 0 });
    });
    expect(d.getTask("a")?.options.retries).toBe(3);
    expect(d.getTask("b")?.options.retries).toBe(0);
    expect(d.getTask("b")?.options.owner).toBe("team");
  });

  test("bad declarations are clear UpdraftErrors", () => {
    expect(
      errorCode(() =>
        dag({ dagId: "dup" }, () => {
          new EmptyOperator({ taskId: "x" });
          new EmptyOperator({ taskId: "x" });
        }),
      ),
    ).toBe("DUPLICATE_TASK_ID");
    expect(errorCode(() => dag({ dagId: "bad id!" }, () => {}))).toBe("INVALID_ID");
    expect(errorCode(() => dag({ dagId: "x".repeat(251) }, () => {}))).toBe("INVALID_ID");
    expect(errorCode(() => new EmptyOperator({ taskId: "orphan" }))).toBe("OUTSIDE_DAG");
    const typo = () => dag({ dagId: "typo", defaultArgs: { retires: 3 } as never }, () => {});
    expect(errorCode(typo)).toBe("UNKNOWN_OPTION");
    expect(() => typo()).toThrow(/"retires".*Did you mean "retries"/);
    expect(() => dag({ dagId: "snake", retry_delay: 1 } as never, () => {})).toThrow(
      /unknown option "retry_delay"/,
    );
    expect(
      errorCode(() =>
        dag({ dagId: "map" }, () => {
          BashOperator.partial({ taskId: "m" }).expand({ retries: [1] } as never);
        }),
      ),
    ).toBe("NOT_MAPPABLE");
    expect(
      errorCode(() =>
        dag({ dagId: "map2" }, () => {
          task("t", (_c, n: number) => n).expand(5 as never);
        }),
      ),
    ).toBe("INVALID_MAPPING");
    expect(errorCode(() => chain([] as never, [new EmptyOperator({ taskId: "z" })] as never))).toBe(
      "OUTSIDE_DAG",
    );
  });

  test("mapped TaskFlow tasks record what they expand over", () => {
    const list = task("list", (): string[] => ["a", "b"]);
    const size = task("size", (_ctx, prefix: string, s: string) => prefix + s);
    const d = dag({ dagId: "mapped" }, () => {
      size.partial("p-").expand(list());
    });
    const mapped = d.getTask("size");
    expect(mapped?.mapped?.expand).toHaveProperty("1");
    expect(edges(d)).toEqual(["list>size"]);
  });
});

describe("running operators", () => {
  const ctx = {} as never;
  const signal = new AbortController().signal;

  test("BashOperator returns the last stdout line and skips on exit 99", async () => {
    let op!: BashOperator;
    dag({ dagId: "bash_run" }, () => {
      op = new BashOperator({ taskId: "b", bashCommand: "x" });
    });
    await expect(op.execute({ ctx, fields: { bashCommand: "echo one; echo two" }, signal })).resolves.toBe(
      "two",
    );
    await expect(op.execute({ ctx, fields: { bashCommand: "exit 99" }, signal })).rejects.toBeInstanceOf(
      TaskSkipped,
    );
    await expect(op.execute({ ctx, fields: { bashCommand: "exit 3" }, signal })).rejects.toThrow(
      /non-zero exit code 3/,
    );
    await expect(
      op.execute({
        ctx,
        fields: { bashCommand: "echo $FOO", env: { FOO: "bar", PATH: process.env.PATH ?? "" } },
        signal,
      }),
    ).resolves.toBe("bar");
  });
});
