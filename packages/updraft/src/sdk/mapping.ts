import { UpdraftError } from "../common/errors.js";
import { wire, type BaseOperator } from "./base-operator.js";
import type { XComArg } from "./xcom-arg.js";
import { isXComArg } from "./xcom-arg.js";

/** A list, or a reference to a list another task produces. */
export type MapSource<T> = readonly T[] | XComArg<readonly T[]>;

/** The second half of `Operator.partial(...).expand(...)`. */
export interface MappedBuilder<O, K extends keyof O> {
  /** Creates one task instance per value (the cross product when several fields are given). */
  expand(values: { [F in K]?: MapSource<O[F]> }): BaseOperator;
}

/** Marker that stands for a value supplied per mapped instance. */
export const MAPPED_VALUE = Symbol.for("updraft.mappedValue");

/** Checks expand values: lists or XCom references, for mappable fields only. */
export function checkExpand(
  taskId: string,
  operatorName: string,
  values: Record<string, unknown>,
  mappable: readonly string[],
): void {
  const names = Object.keys(values);
  if (names.length === 0) {
    throw new UpdraftError(
      "INVALID_MAPPING",
      `Task "${taskId}": expand() needs at least one field to map over.`,
    );
  }
  for (const name of names) {
    if (!mappable.includes(name)) {
      throw new UpdraftError(
        "NOT_MAPPABLE",
        `Task "${taskId}": "${name}" of ${operatorName} cannot be mapped. Mappable: ${mappable.join(", ") || "none"}. Put fixed values in partial().`,
        { details: { field: name } },
      );
    }
    const v = values[name];
    if (!Array.isArray(v) && !isXComArg(v)) {
      throw new UpdraftError(
        "INVALID_MAPPING",
        `Task "${taskId}": expand() value for "${name}" must be a list or another task's output, got ${typeof v}.`,
      );
    }
  }
}

/** Builds a mapped classic operator; shared by the `partial` statics of operators. */
export function mappedOperator<O extends { taskId: string }, K extends keyof O>(
  ctor: new (options: O) => BaseOperator,
  partialOptions: Partial<O> & { taskId: string },
  mappable: readonly K[],
): MappedBuilder<O, K> {
  return {
    expand(values) {
      const record = values as Record<string, unknown>;
      const probe = { ...partialOptions } as Record<string, unknown>;
      checkExpand(partialOptions.taskId, ctor.name, record, mappable as readonly string[]);
      for (const name of Object.keys(record)) probe[name] = MAPPED_VALUE;
      const op = new ctor(probe as O);
      op.mapped = { expand: record };
      for (const v of Object.values(record)) if (isXComArg(v)) wire(v, op);
      return op;
    },
  };
}
