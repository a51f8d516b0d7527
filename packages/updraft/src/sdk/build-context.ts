import { UpdraftError } from "../common/errors.js";
import type { Dag } from "./dag.js";
import type { TaskGroup } from "./task-group.js";

/**
 * The DAG and task group being built. Operators created inside a `dag(...)` body attach to the
 * innermost ones, as Airflow's `with DAG(...)` and `with TaskGroup(...)` do.
 */
interface Frame {
  dag: Dag;
  group: TaskGroup | null;
}
const stack: Frame[] = [];

export function currentFrame(what: string): Frame {
  const top = stack[stack.length - 1];
  if (!top) {
    throw new UpdraftError(
      "OUTSIDE_DAG",
      `${what} was created outside a DAG. Create tasks inside the body of dag({ dagId: ... }, () => { ... }).`,
    );
  }
  return top;
}

export function withFrame<T>(frame: Frame, body: () => T): T {
  stack.push(frame);
  try {
    return body();
  } finally {
    stack.pop();
  }
}
