import { UpdraftError } from "../common/errors.js";
import {
  wire,
  type BaseOperator,
  type GraphNode,
  type TeardownOptions,
  type Wireable,
} from "./base-operator.js";

const XCOM_BRAND = Symbol.for("updraft.xcomArg");

/**
 * A reference to a value a task will push when it runs (its return value by default). Passing it
 * to another task makes that task depend on the producer and receive the value; the type `T`
 * flows, so passing an `XComArg<Rec[]>` where a `string` is expected does not compile.
 *
 * @example
 * ```ts
 * const raw = extract();        // XComArg<string>
 * const rows = parse(raw);      // parse's first argument must accept a string
 * ```
 */
export class XComArg<T> implements GraphNode {
  readonly [XCOM_BRAND] = true;
  /** Phantom member that carries the value type; never set at run time. */
  declare readonly __valueType?: T;
  readonly operator: BaseOperator;
  readonly key: string;

  constructor(operator: BaseOperator, key = "return_value") {
    this.operator = operator;
    this.key = key;
  }

  roots(): BaseOperator[] {
    return [this.operator];
  }
  leaves(): BaseOperator[] {
    return [this.operator];
  }

  /**
   * One property of the returned object, which a task with `multipleOutputs: true` pushes as an
   * XCom of its own (Airflow: `result["total"]`). Typed from the task's return type.
   *
   * @example
   * ```ts
   * const stats = task({ taskId: "stats", multipleOutputs: true }, () => ({ total: 3, names: ["a"] }));
   * const s = stats();
   * report(s.get("total")); // XComArg<number>
   * ```
   */
  get<K extends OutputKey<T>>(name: K): XComArg<NonNullable<T>[K]> {
    if (this.operator.options.multipleOutputs !== true) {
      throw new UpdraftError(
        "INVALID_XCOM_KEY",
        `Task "${this.operator.taskId}" pushes only its return value: set multipleOutputs: true on it to take "${name}" as an XCom of its own.`,
      );
    }
    return new XComArg<NonNullable<T>[K]>(this.operator, name);
  }

  /** Makes `next` run after the producing task. Returns `next`. */
  before<W extends Wireable>(next: W): W {
    wire(this, next);
    return next;
  }

  /** Makes the producing task run after `previous`. Returns `previous`. */
  after<W extends Wireable>(previous: W): W {
    wire(previous, this);
    return previous;
  }

  /** Marks the producing task as a setup task (see {@link BaseOperator.asSetup}). */
  asSetup(): this {
    this.operator.asSetup();
    return this;
  }

  /** Marks the producing task as a teardown (see {@link BaseOperator.asTeardown}). */
  asTeardown(options: TeardownOptions = {}): this {
    this.operator.asTeardown(options);
    return this;
  }
}

/** True for an XCom reference, even from another copy of the SDK. */
export function isXComArg(value: unknown): value is XComArg<unknown> {
  return typeof value === "object" && value !== null && XCOM_BRAND in value;
}

/** The property names `get` accepts: those of an object return type (a list has none). */
export type OutputKey<T> = T extends readonly unknown[] ? never : Extract<keyof NonNullable<T>, string>;

/** A value, or a reference to a value another task will produce. */
export type XComInput<T> = T | XComArg<T>;
