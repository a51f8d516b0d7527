import { UpdraftError } from "../common/errors.js";
import { indexedTopology } from "./graph.js";
import type { GraphTask } from "./graph.js";
import { WeightRule } from "../sdk/trigger-rule.js";

// The constant lives in the SDK (DAG files import it); the model re-exports it.
export { WeightRule };
export const WEIGHT_RULES: readonly WeightRule[] = Object.values(WeightRule);

export interface WeightedTask extends GraphTask {
  readonly priority_weight: number;
  readonly weight_rule: WeightRule;
}

/** The database column is a 32-bit integer; Airflow clamps to it too. */
export const MIN_PRIORITY_WEIGHT = -(2 ** 31);
export const MAX_PRIORITY_WEIGHT = 2 ** 31 - 1;

// Target tasks per pass of the closure computation: bounds memory to tasks × 512 bytes.
const BLOCK = 4096;

/**
 * The priority each task's instances are queued with, by Airflow's weight rules: `downstream`
 * adds the weights of every task after it (each counted once, however many paths lead there),
 * `upstream` of every task before it, `absolute` is the task's own weight. Sums are clamped to
 * the 32-bit range. Throws DAG_CYCLE, UNKNOWN_UPSTREAM_TASK, INVALID_WEIGHT_RULE or
 * INVALID_PRIORITY_WEIGHT.
 *
 * @example
 * ```ts
 * effectivePriorityWeights([
 *   { task_id: "a", upstream_task_ids: [], priority_weight: 1, weight_rule: "downstream" },
 *   { task_id: "b", upstream_task_ids: ["a"], priority_weight: 1, weight_rule: "downstream" },
 * ]); // Map { "a" => 2, "b" => 1 }
 * ```
 */
export function effectivePriorityWeights(tasks: readonly WeightedTask[]): Map<string, number> {
  for (const t of tasks) {
    if (!(WEIGHT_RULES as readonly unknown[]).includes(t.weight_rule)) {
      throw new UpdraftError(
        "INVALID_WEIGHT_RULE",
        `Task "${t.task_id}": weight_rule ${JSON.stringify(t.weight_rule)} is not one of ${WEIGHT_RULES.join(", ")}.`,
        { details: { task_id: t.task_id, weight_rule: t.weight_rule } },
      );
    }
    if (!Number.isInteger(t.priority_weight)) {
      throw new UpdraftError(
        "INVALID_PRIORITY_WEIGHT",
        `Task "${t.task_id}": priority_weight must be an integer, got ${JSON.stringify(t.priority_weight)}.`,
        { details: { task_id: t.task_id } },
      );
    }
  }
  const g = indexedTopology(tasks);
  const n = tasks.length;
  const own = Float64Array.from(tasks, (t) => t.priority_weight);
  const total = Float64Array.from(own);
  const wants = (rule: WeightRule) => Uint8Array.from(tasks, (t) => (t.weight_rule === rule ? 1 : 0));
  if (tasks.some((t) => t.weight_rule === "downstream")) {
    // Downstream closures are complete once every downstream task is done: reverse topological order.
    addClosureSums(n, g.downstream, [...g.order].reverse(), own, wants("downstream"), total);
  }
  if (tasks.some((t) => t.weight_rule === "upstream")) {
    addClosureSums(n, g.upstream, g.order, own, wants("upstream"), total);
  }
  const out = new Map<string, number>();
  g.ids.forEach((id, i) =>
    out.set(id, Math.min(MAX_PRIORITY_WEIGHT, Math.max(MIN_PRIORITY_WEIGHT, total[i]!))),
  );
  return out;
}

/**
 * Adds to `total[i]` (for each wanted i) the weights of all tasks reachable from i along `edges`.
 * Reachability is a bitset per task over a block of target tasks, OR-ed along edges in `order`
 * (targets before sources); sums come from per-byte lookup tables. Exact on diamonds, where
 * summing the totals of direct relatives would count shared relatives twice.
 */
function addClosureSums(
  n: number,
  edges: readonly (readonly number[])[],
  order: readonly number[],
  weight: Float64Array,
  wanted: Uint8Array,
  total: Float64Array,
): void {
  for (let base = 0; base < n; base += BLOCK) {
    const size = Math.min(BLOCK, n - base);
    const bytes = Math.ceil(size / 8);
    const bits = new Uint8Array(n * bytes);
    for (const node of order) {
      const row = node * bytes;
      for (const next of edges[node]!) {
        const from = next * bytes;
        for (let b = 0; b < bytes; b++) bits[row + b]! |= bits[from + b]!;
        const local = next - base;
        if (local >= 0 && local < size) bits[row + (local >> 3)]! |= 1 << (local & 7);
      }
    }
    const table = new Float64Array(bytes * 256);
    for (let p = 0; p < bytes; p++) {
      for (let v = 1; v < 256; v++) {
        const low = 31 - Math.clz32(v & -v);
        const task = base + p * 8 + low;
        table[p * 256 + v] = table[p * 256 + (v & (v - 1))]! + (task < n ? weight[task]! : 0);
      }
    }
    for (let node = 0; node < n; node++) {
      if (wanted[node] === 0) continue;
      const row = node * bytes;
      let sum = 0;
      for (let p = 0; p < bytes; p++) {
        const v = bits[row + p]!;
        if (v !== 0) sum += table[p * 256 + v]!;
      }
      total[node]! += sum;
    }
  }
}
