import { UpdraftError } from "../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../base-operator.js";
import type { TaskOptions } from "../options.js";
import { checkSqlOption, pick, withPostgres } from "./sql.js";
import { pythonTruthy, sqlStatements } from "./sql-text.js";

interface SqlCheckBase extends TaskOptions {
  taskId: string;
  /** The connection (conn_type `postgres`). Templated. Default `postgres_default`. */
  connId?: string;
  /** One query, or a `.sql` file relative to the DAG file. Templated. */
  sql: string;
  /** Positional parameters `$1`, `$2`… (templated). */
  parameters?: unknown[];
  /** Database to use instead of the connection's schema. Templated. */
  database?: string;
}

/** Options of {@link SQLCheckOperator}. */
export type SQLCheckOperatorOptions = SqlCheckBase;

/** Options of {@link SQLValueCheckOperator}. */
export interface SQLValueCheckOperatorOptions extends SqlCheckBase {
  /** The expected value of every cell of the first row (templated). */
  passValue: string | number;
  /** For a numeric passValue: the relative tolerance, 0.1 = ±10 %. Default exact. */
  tolerance?: number;
}

const BASE = ["connId", "sql", "parameters", "database"] as const;

async function firstRow(
  op: BaseOperator,
  input: ExecuteInput,
): Promise<{ sql: string; row: unknown[] | undefined }> {
  const [sql = ""] = sqlStatements(op, input);
  const connId = typeof input.fields.connId === "string" ? input.fields.connId : "postgres_default";
  const rows = await withPostgres(input, connId, input.fields.database, (s) =>
    s.run(sql, {
      ...(Array.isArray(input.fields.parameters) ? { parameters: input.fields.parameters } : {}),
      autocommit: true,
      rowMode: "array",
    }),
  );
  return { sql, row: (rows as unknown[][])[0] };
}

/**
 * Fails the task unless the query's first row exists and every value in it is true in Python's
 * sense (not null, 0, "" or false), as Airflow's `SQLCheckOperator`.
 *
 * @example
 * ```ts
 * new SQLCheckOperator({ taskId: "rows_loaded", connId: "warehouse", sql: "select count(*) > 0 from sales where day = '{{ ds }}'" });
 * ```
 */
export class SQLCheckOperator extends BaseOperator {
  readonly operatorName = "SQLCheckOperator";
  readonly templateFields = BASE;

  constructor(options: SQLCheckOperatorOptions) {
    super(options, pick(options, BASE), BASE);
    checkSqlOption(this, options.sql);
  }

  async execute(input: ExecuteInput): Promise<unknown[]> {
    const { sql, row } = await firstRow(this, input);
    console.log(`Record: ${JSON.stringify(row ?? null)}`);
    if (row === undefined)
      throw new UpdraftError("SQL_CHECK_FAILED", `The check query returned no rows.\nQuery:\n${sql}`);
    if (!row.every(pythonTruthy))
      throw new UpdraftError(
        "SQL_CHECK_FAILED",
        `Test failed: a value of the first row is false, 0, empty or null.\nQuery:\n${sql}\nResults:\n${JSON.stringify(row)}`,
      );
    console.log("Success.");
    return row;
  }
}

/**
 * Fails the task unless every value of the query's first row equals `passValue` — within
 * `tolerance` (relative) for a number — as Airflow's `SQLValueCheckOperator`.
 *
 * @example
 * ```ts
 * new SQLValueCheckOperator({ taskId: "about_1000", connId: "warehouse", sql: "select count(*) from sales", passValue: 1000, tolerance: 0.1 });
 * ```
 */
export class SQLValueCheckOperator extends BaseOperator {
  readonly operatorName = "SQLValueCheckOperator";
  readonly templateFields = [...BASE, "passValue"] as const;

  constructor(options: SQLValueCheckOperatorOptions) {
    super(options, pick(options, [...BASE, "passValue", "tolerance"]), [...BASE, "passValue", "tolerance"]);
    checkSqlOption(this, options.sql);
    if (options.tolerance !== undefined && !(Number.isFinite(options.tolerance) && options.tolerance >= 0))
      throw new UpdraftError(
        "INVALID_TASK",
        `SQLValueCheckOperator "${options.taskId}": tolerance must be a number ≥ 0 (0.1 = ±10 %).`,
      );
  }

  async execute(input: ExecuteInput): Promise<unknown[]> {
    const pass = input.fields.passValue;
    const tol = typeof input.fields.tolerance === "number" ? input.fields.tolerance : undefined;
    const { sql, row } = await firstRow(this, input);
    console.log(`Record: ${JSON.stringify(row ?? null)}`);
    const passNum =
      typeof pass === "number" ? pass : typeof pass === "string" && pass.trim() !== "" ? Number(pass) : NaN;
    const numeric = Number.isFinite(passNum);
    const matches = (row ?? []).map((cell) => {
      if (!numeric) return String(cell) === String(pass);
      const v = Number(cell);
      if (!Number.isFinite(v)) return false;
      return tol === undefined ? v === passNum : passNum * (1 - tol) <= v && v <= passNum * (1 + tol);
    });
    if (row === undefined || row.length === 0 || !matches.every(Boolean)) {
      const expect = tol === undefined ? JSON.stringify(pass) : `${JSON.stringify(pass)} ±${tol * 100}%`;
      throw new UpdraftError(
        "SQL_CHECK_FAILED",
        `Test failed: expected ${expect}.\nQuery:\n${sql}\nResults:\n${JSON.stringify(row ?? null)}`,
      );
    }
    return row;
  }
}
