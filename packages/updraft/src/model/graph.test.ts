import { describe, expect, it } from "vitest";
import { UpdraftError } from "../common/errors.js";
import type { GraphTask } from "./graph.js";
import { downstreamClosure, findCycle, leaves, roots, topologicalOrder, upstreamClosure } from "./graph.js";

const t = (task_id: string, ...upstream_task_ids: string[]): GraphTask => ({ task_id, upstream_task_ids });

// extract → (clean, enrich) → load → report; audit alone
const diamond = [
  t("report", "load"),
  t("load", "clean", "enrich"),
  t("clean", "extract"),
  t("enrich", "extract"),
  t("extract"),
  t("audit"),
];

const chain = (n: number) => Array.from({ length: n }, (_, i) => t(`t${i}`, ...(i > 0 ? [`t${i - 1}`] : [])));

function errorOf(fn: () => unknown): UpdraftError {
  try {
    fn();
  } catch (err) {
    if (err instanceof UpdraftError) return err;
    throw err;
  }
  throw new Error("expected an UpdraftError");
}

describe("findCycle", () => {
  it("returns null for a DAG", () => {
    expect(findCycle(diamond)).toBeNull();
    expect(findCycle([])).toBeNull();
  });

  it("returns the cycle in downstream order", () => {
    expect(findCycle([t("a", "c"), t("b", "a"), t("c", "b"), t("d", "a")])).toEqual(["a", "b", "c", "a"]);
    expect(findCycle([t("x"), t("a", "a")])).toEqual(["a", "a"]);
    expect(findCycle([t("a"), t("b", "a", "d"), t("c", "b"), t("d", "c")])).toEqual(["b", "c", "d", "b"]);
  });

  it("finds a cycle at the end of a 10,000-task chain without recursion", () => {
    const tasks = chain(10_000);
    tasks[0] = t("t0", "t9999");
    const cycle = findCycle(tasks)!;
    expect(cycle).toHaveLength(10_001);
    expect(cycle[0]).toBe(cycle[cycle.length - 1]);
  });
});

describe("topologicalOrder", () => {
  it("puts every task after its upstreams, keeping input order among ready tasks", () => {
    expect(topologicalOrder(diamond)).toEqual(["extract", "audit", "clean", "enrich", "load", "report"]);
  });

  it("names the cycle", () => {
    const err = errorOf(() => topologicalOrder([t("a", "b"), t("b", "a")]));
    expect(err.code).toBe("DAG_CYCLE");
    expect(err.message).toContain("a → b → a");
  });

  it("rejects unknown upstreams and duplicate ids", () => {
    const unknown = errorOf(() => topologicalOrder([t("a", "ghost")]));
    expect(unknown.code).toBe("UNKNOWN_UPSTREAM_TASK");
    expect(unknown.message).toContain('Task "a" depends on "ghost"');
    expect(errorOf(() => roots([t("a"), t("a")])).code).toBe("DUPLICATE_TASK_ID");
  });

  it("orders a 10,000-task chain and a 10,000-task fan quickly", () => {
    const start = performance.now();
    const reversedChain = chain(10_000).reverse();
    expect(topologicalOrder(reversedChain)[9_999]).toBe("t9999");
    const fan = [
      t("root"),
      ...Array.from({ length: 10_000 }, (_, i) => t(`leaf${i}`, "root")),
      t("sink", ...Array.from({ length: 10_000 }, (_, i) => `leaf${i}`)),
    ];
    const order = topologicalOrder(fan);
    expect(order[0]).toBe("root");
    expect(order[order.length - 1]).toBe("sink");
    expect(performance.now() - start).toBeLessThan(2_000);
  });
});

describe("closures, roots and leaves", () => {
  it("follows dependencies transitively, without the task itself", () => {
    expect(downstreamClosure(diamond, "extract")).toEqual(["report", "load", "clean", "enrich"]);
    expect(upstreamClosure(diamond, "report")).toEqual(["load", "clean", "enrich", "extract"]);
    expect(downstreamClosure(diamond, "audit")).toEqual([]);
    expect(errorOf(() => upstreamClosure(diamond, "nope")).code).toBe("TASK_NOT_FOUND");
  });

  it("finds roots and leaves", () => {
    expect(roots(diamond)).toEqual(["extract", "audit"]);
    expect(leaves(diamond)).toEqual(["report", "audit"]);
  });

  it("walks a 10,000-task chain", () => {
    const tasks = chain(10_000);
    expect(downstreamClosure(tasks, "t0")).toHaveLength(9_999);
    expect(upstreamClosure(tasks, "t9999")).toHaveLength(9_999);
  });
});
