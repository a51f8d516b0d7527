import { UpdraftError } from "../common/errors.js";
import { wire, type GraphNode } from "./base-operator.js";

/**
 * Wires tasks in sequence, as Airflow's `chain`: `chain(a, b, [c, d], e)` makes b follow a, c and
 * d follow b, and e follow c and d. Two adjacent lists must have the same length and are wired
 * pairwise.
 *
 * @example
 * ```ts
 * chain(extract, [transformUsers, transformOrders], load, notify);
 * ```
 */
export function chain(...steps: (GraphNode | readonly GraphNode[])[]): void {
  for (let i = 0; i + 1 < steps.length; i++) {
    const up = steps[i];
    const down = steps[i + 1];
    if (up === undefined || down === undefined) continue;
    if (Array.isArray(up) && Array.isArray(down)) {
      if (up.length !== down.length) {
        throw new UpdraftError(
          "CHAIN_LENGTH_MISMATCH",
          `chain(): adjacent lists must have the same length to be wired pairwise, got ${up.length} and ${down.length}.`,
        );
      }
      up.forEach((u: GraphNode, j: number) => wire(u, down[j] as GraphNode));
    } else {
      wire(up, down);
    }
  }
}
