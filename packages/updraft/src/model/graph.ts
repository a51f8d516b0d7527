import { UpdraftError } from "../common/errors.js";

/** The least a task must have to be placed in the graph. */
export interface GraphTask {
  readonly task_id: string;
  readonly upstream_task_ids: readonly string[];
}

/**
 * The tasks as integer-indexed adjacency lists, in input order. Every function here is
 * iterative and linear in tasks + edges, so 10,000-task chains and fans are fine.
 */
interface Indexed {
  readonly ids: readonly string[];
  readonly index: ReadonlyMap<string, number>;
  readonly upstream: readonly (readonly number[])[];
  readonly downstream: readonly (readonly number[])[];
}

function indexTasks(tasks: readonly GraphTask[]): Indexed {
  const ids = tasks.map((t) => t.task_id);
  const index = new Map<string, number>();
  ids.forEach((id, i) => {
    if (index.has(id)) {
      throw new UpdraftError(
        "DUPLICATE_TASK_ID",
        `Task id "${id}" is used by more than one task. Give each task its own id.`,
        {
          details: { task_id: id },
        },
      );
    }
    index.set(id, i);
  });
  const upstream: number[][] = tasks.map(() => []);
  const downstream: number[][] = tasks.map(() => []);
  tasks.forEach((task, i) => {
    for (const upId of new Set(task.upstream_task_ids)) {
      const u = index.get(upId);
      if (u === undefined) {
        throw new UpdraftError(
          "UNKNOWN_UPSTREAM_TASK",
          `Task "${task.task_id}" depends on "${upId}", which is not a task of this DAG. Add that task or remove the dependency.`,
          { details: { task_id: task.task_id, upstream_task_id: upId } },
        );
      }
      upstream[i]!.push(u);
      downstream[u]!.push(i);
    }
  });
  return { ids, index, upstream, downstream };
}

function mustIndex(g: Indexed, id: string): number {
  const i = g.index.get(id);
  if (i === undefined)
    throw new UpdraftError("TASK_NOT_FOUND", `Task "${id}" is not a task of this DAG.`, {
      details: { task_id: id },
    });
  return i;
}

/**
 * A dependency cycle, as task ids in downstream order with the first repeated at the end
 * (`["a", "b", "c", "a"]` when a → b → c → a), or null when the tasks form a DAG.
 */
export function findCycle(tasks: readonly GraphTask[]): string[] | null {
  const g = indexTasks(tasks);
  const n = g.ids.length;
  const state = new Uint8Array(n); // 0 unvisited, 1 on the current path, 2 finished
  const parent = new Int32Array(n).fill(-1);
  const cursor = new Int32Array(n); // next downstream edge to follow, per node
  for (let root = 0; root < n; root++) {
    if (state[root] !== 0) continue;
    const stack = [root];
    state[root] = 1;
    while (stack.length > 0) {
      const node = stack[stack.length - 1]!;
      const edges = g.downstream[node]!;
      if (cursor[node]! < edges.length) {
        const next = edges[cursor[node]!++]!;
        if (state[next] === 0) {
          state[next] = 1;
          parent[next] = node;
          stack.push(next);
        } else if (state[next] === 1) {
          const cycle = [g.ids[next]!];
          for (let v = node; v !== next; v = parent[v]!) cycle.push(g.ids[v]!);
          cycle.push(g.ids[next]!);
          return cycle.reverse();
        }
      } else {
        state[node] = 2;
        stack.pop();
      }
    }
  }
  return null;
}

function topoIndexes(g: Indexed): number[] {
  const n = g.ids.length;
  const pending = g.upstream.map((u) => u.length);
  const order: number[] = [];
  for (let i = 0; i < n; i++) if (pending[i] === 0) order.push(i);
  for (let head = 0; head < order.length; head++) {
    for (const d of g.downstream[order[head]!]!) {
      if (--pending[d]! === 0) order.push(d);
    }
  }
  return order;
}

function cycleError(tasks: readonly GraphTask[]): UpdraftError {
  const cycle = findCycle(tasks) ?? [];
  return new UpdraftError(
    "DAG_CYCLE",
    `The tasks depend on each other in a cycle: ${cycle.join(" → ")}. Remove one of these dependencies.`,
    { details: { cycle } },
  );
}

/**
 * Task ids with every task after all its upstreams (Kahn's algorithm; ties keep input order
 * level by level). Throws DAG_CYCLE naming the cycle.
 */
export function topologicalOrder(tasks: readonly GraphTask[]): string[] {
  const g = indexTasks(tasks);
  const order = topoIndexes(g);
  if (order.length < g.ids.length) throw cycleError(tasks);
  return order.map((i) => g.ids[i]!);
}

/** @internal Shared with priority weights: indexes and a topological order, or DAG_CYCLE. */
export function indexedTopology(
  tasks: readonly GraphTask[],
): Indexed & { readonly order: readonly number[] } {
  const g = indexTasks(tasks);
  const order = topoIndexes(g);
  if (order.length < g.ids.length) throw cycleError(tasks);
  return { ...g, order };
}

function closure(g: Indexed, start: number, edges: readonly (readonly number[])[]): string[] {
  const seen = new Uint8Array(g.ids.length);
  const queue = [start];
  seen[start] = 1;
  for (let head = 0; head < queue.length; head++) {
    for (const next of edges[queue[head]!]!) {
      if (seen[next] === 0) {
        seen[next] = 1;
        queue.push(next);
      }
    }
  }
  // In input order, without the task itself (Airflow's get_flat_relative_ids).
  const out: string[] = [];
  for (let i = 0; i < g.ids.length; i++) if (seen[i] === 1 && i !== start) out.push(g.ids[i]!);
  return out;
}

/** Every task that depends on `taskId`, directly or not (in input order, without it). */
export function downstreamClosure(tasks: readonly GraphTask[], taskId: string): string[] {
  const g = indexTasks(tasks);
  return closure(g, mustIndex(g, taskId), g.downstream);
}

/** Every task `taskId` depends on, directly or not (in input order, without it). */
export function upstreamClosure(tasks: readonly GraphTask[], taskId: string): string[] {
  const g = indexTasks(tasks);
  return closure(g, mustIndex(g, taskId), g.upstream);
}

/** Tasks without upstreams, in input order. */
export function roots(tasks: readonly GraphTask[]): string[] {
  const g = indexTasks(tasks);
  return g.ids.filter((_, i) => g.upstream[i]!.length === 0);
}

/** Tasks without downstreams, in input order. */
export function leaves(tasks: readonly GraphTask[]): string[] {
  const g = indexTasks(tasks);
  return g.ids.filter((_, i) => g.downstream[i]!.length === 0);
}
