import type { Workload } from "../../model/execution-api.js";

function weight(w: Workload): number {
  return w.kind === "task" ? w.priority_weight : Number.POSITIVE_INFINITY; // callbacks are short: first
}

/** Workloads by priority_weight descending, first come first served within one weight. */
export class WorkloadQueue {
  private readonly items: Workload[] = [];

  get length(): number {
    return this.items.length;
  }

  push(w: Workload): void {
    const pw = weight(w);
    // Insert after every item of equal or higher weight (binary search keeps it O(log n)).
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (weight(this.items[mid] as Workload) >= pw) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, w);
  }

  peek(): Workload | undefined {
    return this.items[0];
  }

  shift(): Workload | undefined {
    return this.items.shift();
  }

  /** Removes the first workload matching `pred`. */
  take(pred: (w: Workload) => boolean): Workload | undefined {
    const i = this.items.findIndex(pred);
    return i < 0 ? undefined : this.items.splice(i, 1)[0];
  }

  count(pred: (w: Workload) => boolean): number {
    let n = 0;
    for (const w of this.items) if (pred(w)) n++;
    return n;
  }

  drain(): Workload[] {
    return this.items.splice(0);
  }
}
