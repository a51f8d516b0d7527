// Several executors at once (decision 0027): core.executor as a list, a task's `executor` option
// validated and serialized, and the processor's "not configured" check.
import { describe, expect, test } from "vitest";
import { ExecutorSet } from "../executors/executor-set.js";
import type { Executor, ExecutorListener, StopResult } from "../executors/executor.js";
import { parseExecutorSetting } from "../executors/from-config.js";
import { EmptyOperator } from "../sdk/operators/empty.js";
import { dag } from "../sdk/dag.js";
import { takeRegisteredDags } from "../sdk/registry.js";
import { task } from "../sdk/taskflow.js";
import { DagPlan } from "./dag-plan.js";
import { resolveExecutorName, unconfiguredExecutorProblems } from "./executor-names.js";
import { SerializedDagSchema } from "./serialized-dag.js";
import { serializeDag } from "./serialize-dag.js";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
}

describe("core.executor", () => {
  test("a comma list, the first the default, duplicates folded, any case", () => {
    expect(parseExecutorSetting("LocalExecutor,KubernetesExecutor")).toEqual([
      "LocalExecutor",
      "KubernetesExecutor",
    ]);
    expect(parseExecutorSetting(" kubernetesexecutor , LocalExecutor,KubernetesExecutor,")).toEqual([
      "KubernetesExecutor",
      "LocalExecutor",
    ]);
    expect(parseExecutorSetting("LocalExecutor,QueueExecutor,KubernetesExecutor")).toHaveLength(3);
  });

  test("an unknown name is refused with the known ones", () => {
    expect(() => parseExecutorSetting("LocalExecutor,CeleryExecutor")).toThrow(
      /"CeleryExecutor".*LocalExecutor, KubernetesExecutor, QueueExecutor.*UPDRAFT__CORE__EXECUTOR/,
    );
    expect(codeOf(() => parseExecutorSetting("LocalExecutor,CeleryExecutor"))).toBe("UNKNOWN_EXECUTOR");
  });

  test("a task instance naming none goes to the first", () => {
    expect(resolveExecutorName(null, ["KubernetesExecutor", "LocalExecutor"])).toBe("KubernetesExecutor");
    expect(resolveExecutorName("LocalExecutor", ["KubernetesExecutor", "LocalExecutor"])).toBe(
      "LocalExecutor",
    );
  });
});

describe("a task's executor option", () => {
  const build = (executor: unknown, defaultExecutor?: string) => {
    const d = dag(
      {
        dagId: "mixed",
        ...(defaultExecutor === undefined ? {} : { defaultArgs: { executor: defaultExecutor } }),
      },
      () => {
        const light = task("light", () => 1);
        const heavy = task({ taskId: "heavy", executor: executor as string }, (_c, n: number) => n + 1);
        heavy(light());
      },
    );
    takeRegisteredDags();
    return d;
  };

  test("is serialized per task as the canonical name, and set on new task instances", () => {
    const s = serializeDag(build("kubernetesExecutor"), "/d.ts", "None");
    const byId = new Map(s.tasks.map((t) => [t.task_id, t]));
    expect(byId.get("heavy")?.executor).toBe("KubernetesExecutor");
    // Unset: absent, so that a DAG naming no executor keeps its hash.
    expect("executor" in byId.get("light")!).toBe(false);
    const parsed = SerializedDagSchema.parse(JSON.parse(JSON.stringify(s)));
    const plan = new DagPlan(parsed, s.dag_hash);
    expect(plan.newTaskInstance("heavy")?.executor).toBe("KubernetesExecutor");
    expect(plan.newTaskInstance("light")?.executor).toBeNull();
  });

  test("defaultArgs set it for every task; a task's own wins", () => {
    const d = dag({ dagId: "all_k8s", defaultArgs: { executor: "KubernetesExecutor" } }, () => {
      new EmptyOperator({ taskId: "a" });
      new EmptyOperator({ taskId: "b", executor: "LocalExecutor" });
    });
    takeRegisteredDags();
    const s = serializeDag(d, "/d.ts", "None");
    expect(s.tasks.map((t) => [t.task_id, t.executor])).toEqual([
      ["a", "KubernetesExecutor"],
      ["b", "LocalExecutor"],
    ]);
  });

  test("an unknown name or a non-string is refused at parse with the known names", () => {
    expect(() => serializeDag(build("CeleryExecutor"), "/d.ts", "None")).toThrow(
      /Task "heavy": executor "CeleryExecutor" is not an executor of Updraft\. Use one of LocalExecutor, KubernetesExecutor, QueueExecutor/,
    );
    expect(codeOf(() => serializeDag(build(42), "/d.ts", "None"))).toBe("UNKNOWN_EXECUTOR");
  });

  test("a name core.executor does not list is a problem of its DAG (an import error)", () => {
    const s = serializeDag(build("KubernetesExecutor"), "/d.ts", "None");
    expect(unconfiguredExecutorProblems(s, ["LocalExecutor", "KubernetesExecutor"])).toEqual([]);
    const problems = unconfiguredExecutorProblems(s, ["LocalExecutor"]);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ taskId: "heavy" });
    expect(problems[0]!.message).toMatch(
      /Task "heavy" of DAG "mixed" names the executor "KubernetesExecutor", which is not configured: core\.executor lists LocalExecutor\. Add KubernetesExecutor to core\.executor/,
    );
  });
});

class NamedExecutor implements Executor {
  readonly listeners = new Set<ExecutorListener>();
  started = 0;
  stopped = 0;
  constructor(
    readonly name: string,
    private readonly failStart = false,
  ) {}
  start(): Promise<void> {
    if (this.failStart) return Promise.reject(new Error(`${this.name} cannot start`));
    this.started++;
    return Promise.resolve();
  }
  queueWorkload(): void {}
  openSlots(): number {
    return 1;
  }
  onEvent(l: ExecutorListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }
  stop(): Promise<StopResult> {
    this.stopped++;
    return Promise.resolve({ notStarted: [] });
  }
}

describe("ExecutorSet", () => {
  test("the first is the default; task instances resolve by name, an unlisted one to nothing", () => {
    const local = new NamedExecutor("LocalExecutor");
    const k8s = new NamedExecutor("KubernetesExecutor");
    const set = new ExecutorSet([local, k8s]);
    expect(set.default).toBe(local);
    expect(set.names).toEqual(["LocalExecutor", "KubernetesExecutor"]);
    expect(set.resolve(null)).toBe(local);
    expect(set.resolve("KubernetesExecutor")).toBe(k8s);
    expect(set.resolve("QueueExecutor")).toBeUndefined();
    // `dags test`: the default runs everything.
    expect(new ExecutorSet([local], { takesAll: true }).resolve("KubernetesExecutor")).toBe(local);
    expect(() => new ExecutorSet([])).toThrow(/at least one executor/);
    expect(() => new ExecutorSet([local, new NamedExecutor("LocalExecutor")])).toThrow(/given twice/);
  });

  test("subscribes to every executor's events, and a failed start stops those started", async () => {
    const local = new NamedExecutor("LocalExecutor");
    const k8s = new NamedExecutor("KubernetesExecutor");
    const set = new ExecutorSet([local, k8s]);
    const off = set.onEvent(() => undefined);
    expect([local.listeners.size, k8s.listeners.size]).toEqual([1, 1]);
    off();
    expect([local.listeners.size, k8s.listeners.size]).toEqual([0, 0]);

    const ok = new NamedExecutor("LocalExecutor");
    const bad = new ExecutorSet([ok, new NamedExecutor("KubernetesExecutor", true)]);
    await expect(bad.start()).rejects.toThrow(/KubernetesExecutor cannot start/);
    expect([ok.started, ok.stopped]).toEqual([1, 1]);
  });
});
