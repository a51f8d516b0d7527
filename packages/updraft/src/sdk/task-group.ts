import { UpdraftError } from "../common/errors.js";
import { wire, type BaseOperator, type GraphNode, type Wireable } from "./base-operator.js";
import { currentFrame, withFrame } from "./build-context.js";
import type { TaskOptions } from "./options.js";
import { validateId } from "./ids.js";

/** Options of {@link taskGroup}. */
export interface TaskGroupOptions {
  groupId: string;
  tooltip?: string;
  /** Prefix task ids with `groupId.` (default true), as Airflow does. */
  prefixGroupId?: boolean;
  /** Options applied to the group's tasks (over the DAG's `defaultArgs`). */
  defaultArgs?: TaskOptions;
}

/**
 * Tasks shown and wired as one box. Wiring a group wires its roots or leaves.
 *
 * @example
 * ```ts
 * const transforms = taskGroup("transform", () => {
 *   new EmptyOperator({ taskId: "users" });   // task id "transform.users"
 *   new EmptyOperator({ taskId: "orders" });
 * });
 * extract.before(transforms);
 * ```
 */
export class TaskGroup implements GraphNode {
  readonly groupId: string;
  readonly parent: TaskGroup | null;
  readonly tooltip: string;
  readonly prefixGroupId: boolean;
  readonly defaultArgs: TaskOptions;
  readonly tasks: BaseOperator[] = [];

  constructor(options: TaskGroupOptions, parent: TaskGroup | null) {
    validateId(options.groupId, "task group id");
    this.parent = parent;
    this.groupId = parent ? parent.childId(options.groupId) : options.groupId;
    this.tooltip = options.tooltip ?? "";
    this.prefixGroupId = options.prefixGroupId ?? true;
    this.defaultArgs = { ...parent?.defaultArgs, ...options.defaultArgs };
  }

  /** The full id of a child task or group. */
  childId(id: string): string {
    return this.prefixGroupId ? `${this.groupId}.${id}` : id;
  }

  /** @internal */
  addTask(task: BaseOperator): void {
    this.tasks.push(task);
    this.parent?.addTask(task);
  }

  roots(): BaseOperator[] {
    const ids = new Set(this.tasks.map((t) => t.taskId));
    return this.tasks.filter((t) => ![...t.upstreamTaskIds].some((u) => ids.has(u)));
  }

  leaves(): BaseOperator[] {
    const ids = new Set(this.tasks.map((t) => t.taskId));
    return this.tasks.filter((t) => ![...t.downstreamTaskIds].some((d) => ids.has(d)));
  }

  before<W extends Wireable>(next: W): W {
    wire(this, next);
    return next;
  }

  after<W extends Wireable>(previous: W): W {
    wire(previous, this);
    return previous;
  }
}

/**
 * Creates a task group; tasks created in `body` belong to it.
 *
 * @example
 * ```ts
 * const g = taskGroup({ groupId: "load", tooltip: "Loads into the warehouse" }, () => { ... });
 * ```
 */
export function taskGroup(idOrOptions: string | TaskGroupOptions, body: () => void): TaskGroup {
  const options = typeof idOrOptions === "string" ? { groupId: idOrOptions } : idOrOptions;
  const frame = currentFrame(`Task group "${options.groupId}"`);
  const group = new TaskGroup(options, frame.group);
  if (frame.dag.groups.has(group.groupId)) {
    throw new UpdraftError(
      "DUPLICATE_GROUP_ID",
      `Task group id "${group.groupId}" is used twice in DAG "${frame.dag.dagId}". Give each group its own id.`,
    );
  }
  frame.dag.groups.set(group.groupId, group);
  withFrame({ dag: frame.dag, group }, body);
  return group;
}
