import { UpdraftError } from "../../common/errors.js";
import type { ExecuteInput } from "../base-operator.js";
import { checkSqlOption, pick, withPostgres } from "../operators/sql.js";
import { pythonTruthy, sqlStatements } from "../operators/sql-text.js";
import { triggers, type TriggerSpec } from "../triggers.js";
import { BaseSensorOperator, type BaseSensorOptions } from "./base-sensor.js";
import { mappedOperator, type MappedBuilder } from "../mapping.js";

/** Options of {@link SqlSensor}. */
export interface SqlSensorOptions extends BaseSensorOptions {
  /** Default `postgres_default`; conn_type `postgres`. Templated. */
  connId?: string;
  /** Templated; or a `.sql` file relative to the DAG file. */
  sql: string;
  /** Positional parameters `$1`… (templated). */
  parameters?: unknown[];
  /** Done when it returns true for the first cell; default: the cell is true in Python's sense. */
  success?: (firstCell: unknown) => boolean;
  /** Fails the task when it returns true for the first cell. */
  failure?: (firstCell: unknown) => boolean;
  /** No rows fails the task instead of "not yet". Default false. */
  failOnEmpty?: boolean;
}

/**
 * Runs a query until its first row's first cell is true (or `success` says so), as Airflow's `SqlSensor`.
 *
 * @example
 * ```ts
 * new SqlSensor({ taskId: "wait_partition", connId: "warehouse", sql: "select count(*) from sales where day = '{{ ds }}'" });
 * ```
 */
export class SqlSensor extends BaseSensorOperator {
  readonly operatorName = "SqlSensor";
  static readonly mappableFields = ["sql", "parameters"] as const;

  /**
   * Starts a mapped SqlSensor: fixed options now, one task instance per value in `expand`.
   *
   * @example
   * ```ts
   * SqlSensor.partial({ taskId: "wait", connId: "warehouse", sql: "select count(*) from t where day = $1" }).expand({ parameters: [["a"], ["b"]] });
   * ```
   */
  static partial(
    options: Partial<SqlSensorOptions> & { taskId: string },
  ): MappedBuilder<SqlSensorOptions, "sql" | "parameters"> {
    return mappedOperator(SqlSensor, options, SqlSensor.mappableFields);
  }
  readonly templateFields = ["connId", "sql", "parameters"] as const;
  private readonly success: SqlSensorOptions["success"];
  private readonly failure: SqlSensorOptions["failure"];
  constructor(options: SqlSensorOptions) {
    super(options, pick(options, ["connId", "sql", "parameters", "failOnEmpty"]), [
      "connId",
      "sql",
      "parameters",
      "failOnEmpty",
      "success",
      "failure",
    ]);
    checkSqlOption(this, options.sql);
    this.success = options.success;
    this.failure = options.failure;
  }

  protected override deferralRefusal(options: BaseSensorOptions): string | null {
    const o = options as SqlSensorOptions;
    return o.success === undefined && o.failure === undefined
      ? null
      : "success and failure are functions, which the triggerer cannot run (it runs trigger code only).";
  }

  /** The triggerer reads the connection itself: no credentials in the trigger's kwargs. */
  protected override trigger(input: ExecuteInput): TriggerSpec {
    const f = input.fields;
    const [sql = ""] = sqlStatements(this, input);
    return triggers.sql({
      connId: typeof f.connId === "string" ? f.connId : "postgres_default",
      sql,
      ...(Array.isArray(f.parameters) ? { parameters: f.parameters as unknown[] } : {}),
      failOnEmpty: f.failOnEmpty === true,
      pokeIntervalS: Math.max(0.05, this.pokeIntervalMs / 1000),
    });
  }

  async poke(input: ExecuteInput): Promise<boolean> {
    const f = input.fields;
    const [sql = ""] = sqlStatements(this, input);
    console.log(`Poking: ${sql}`);
    const rows = (await withPostgres(
      input,
      typeof f.connId === "string" ? f.connId : "postgres_default",
      undefined,
      (s) =>
        s.run(sql, {
          ...(Array.isArray(f.parameters) ? { parameters: f.parameters } : {}),
          autocommit: true,
          rowMode: "array",
        }),
    )) as unknown[][];
    const first = rows[0];
    if (first === undefined) {
      if (f.failOnEmpty === true)
        throw new UpdraftError(
          "SQL_CHECK_FAILED",
          `SqlSensor "${this.taskId}": no rows returned, raising per failOnEmpty.`,
        );
      return false;
    }
    const cell = first[0];
    if (this.failure?.(cell) === true)
      throw new UpdraftError(
        "SQL_CHECK_FAILED",
        `SqlSensor "${this.taskId}": failure criteria met for ${JSON.stringify(cell)}.`,
      );
    return this.success === undefined ? pythonTruthy(cell) : this.success(cell);
  }
}
