import { describe, expect, it } from "vitest";
import { isUpdraftError } from "../common/errors.js";
import type { WeightRule, WeightedTask } from "./priority-weight.js";
import { MAX_PRIORITY_WEIGHT, effectivePriorityWeights } from "./priority-weight.js";

const w = (
  task_id: string,
  priority_weight: number,
  weight_rule: WeightRule,
  ...ups: string[]
): WeightedTask => ({
  task_id,
  upstream_task_ids: ups,
  priority_weight,
  weight_rule,
});

/** Airflow's definition, straight: own weight + weights of the flat relatives. */
function naive(tasks: readonly WeightedTask[]): Map<string, number> {
  const byId = new Map(tasks.map((t) => [t.task_id, t]));
  const down = new Map<string, string[]>(tasks.map((t) => [t.task_id, []]));
  for (const t of tasks) for (const u of t.upstream_task_ids) down.get(u)!.push(t.task_id);
  const out = new Map<string, number>();
  for (const t of tasks) {
    if (t.weight_rule === "absolute") {
      out.set(t.task_id, t.priority_weight);
      continue;
    }
    const seen = new Set<string>();
    const stack = [t.task_id];
    while (stack.length > 0) {
      const id = stack.pop()!;
      const next = t.weight_rule === "downstream" ? down.get(id)! : byId.get(id)!.upstream_task_ids;
      for (const n of next) {
        if (!seen.has(n)) {
          seen.add(n);
          stack.push(n);
        }
      }
    }
    out.set(t.task_id, t.priority_weight + [...seen].reduce((s, id) => s + byId.get(id)!.priority_weight, 0));
  }
  return out;
}

describe("effectivePriorityWeights", () => {
  it("applies each task's rule, counting a shared relative once", () => {
    // a → (b, c) → d
    const tasks = [
      w("a", 1, "downstream"),
      w("b", 2, "upstream", "a"),
      w("c", 3, "absolute", "a"),
      w("d", 10, "downstream", "b", "c"),
    ];
    expect(effectivePriorityWeights(tasks)).toEqual(
      new Map([
        ["a", 16],
        ["b", 3],
        ["c", 3],
        ["d", 10],
      ]),
    );
    const diamond = [
      w("a", 1, "downstream"),
      w("b", 1, "downstream", "a"),
      w("c", 1, "downstream", "a"),
      w("d", 1, "upstream", "b", "c"),
    ];
    expect(effectivePriorityWeights(diamond).get("a")).toBe(4);
    expect(effectivePriorityWeights(diamond).get("d")).toBe(4);
  });

  it("matches the plain definition on a random DAG crossing block boundaries", () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const rules: WeightRule[] = ["downstream", "upstream", "absolute"];
    const tasks = Array.from({ length: 5000 }, (_, i) => {
      const ups = new Set<string>();
      for (let k = 0; k < 3 && i > 0; k++) ups.add(`t${Math.floor(rand() * i)}`);
      return w(`t${i}`, Math.floor(rand() * 20) - 5, rules[i % 3]!, ...ups);
    });
    expect(effectivePriorityWeights(tasks)).toEqual(naive(tasks));
  });

  it("handles a 10,000-task chain and a 10,000-task fan quickly", () => {
    const start = performance.now();
    const chain = Array.from({ length: 10_000 }, (_, i) =>
      w(`t${i}`, 1, "downstream", ...(i > 0 ? [`t${i - 1}`] : [])),
    );
    const chainWeights = effectivePriorityWeights(chain);
    expect(chainWeights.get("t0")).toBe(10_000);
    expect(chainWeights.get("t9999")).toBe(1);
    const fan = [
      w("root", 1, "downstream"),
      ...Array.from({ length: 10_000 }, (_, i) => w(`leaf${i}`, 1, "upstream", "root")),
      w("sink", 1, "upstream", ...Array.from({ length: 10_000 }, (_, i) => `leaf${i}`)),
    ];
    const fanWeights = effectivePriorityWeights(fan);
    expect(fanWeights.get("root")).toBe(10_002);
    expect(fanWeights.get("leaf7")).toBe(2);
    expect(fanWeights.get("sink")).toBe(10_002);
    expect(performance.now() - start).toBeLessThan(5_000);
  });

  it("clamps to the 32-bit range", () => {
    const tasks = [
      w("a", 2 ** 30, "downstream"),
      w("b", 2 ** 30, "downstream", "a"),
      w("c", 2 ** 30, "downstream", "b"),
    ];
    expect(effectivePriorityWeights(tasks).get("a")).toBe(MAX_PRIORITY_WEIGHT);
  });

  it("rejects a bad rule, a bad weight and a cycle", () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return isUpdraftError(err) ? err.code : "other";
      }
      return "none";
    };
    expect(code(() => effectivePriorityWeights([w("a", 1, "sideways" as WeightRule)]))).toBe(
      "INVALID_WEIGHT_RULE",
    );
    expect(code(() => effectivePriorityWeights([w("a", 1.5, "absolute")]))).toBe("INVALID_PRIORITY_WEIGHT");
    expect(
      code(() => effectivePriorityWeights([w("a", 1, "absolute", "b"), w("b", 1, "absolute", "a")])),
    ).toBe("DAG_CYCLE");
  });
});
