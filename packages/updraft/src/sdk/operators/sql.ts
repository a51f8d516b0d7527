import { UpdraftError } from "../../common/errors.js";
import { BaseOperator, type ExecuteInput } from "../base-operator.js";
import type { Connection } from "../context.js";
import { loadHooks, type StatementRows } from "../hooks.js";
import type { TaskOptions } from "../options.js";
import { sqlStatements } from "./sql-text.js";
import { MAPPED_VALUE, mappedOperator, type MappedBuilder } from "../mapping.js";

/** Options of {@link SQLExecuteQueryOperator}: Airflow's arguments in camelCase. */
export interface SQLExecuteQueryOperatorOptions extends TaskOptions {
  taskId: string;
  /** The connection (conn_type `postgres`). Templated. Default `postgres_default`. */
  connId?: string;
  /**
   * One statement, several, or a `.sql` file (relative to the DAG file) — templated, the file's
   * content too.
   */
  sql: string | string[];
  /** Positional parameters `$1`, `$2`… (templated). */
  parameters?: unknown[];
  /** Each statement commits on its own. Default false: one transaction for all. */
  autocommit?: boolean;
  /** Split text holding several statements at its `;`. Default false. */
  splitStatements?: boolean;
  /** Push only the last statement's rows. Default true. */
  returnLast?: boolean;
  /** Log the rows pushed as XCom. Default false. */
  showReturnValueInLogs?: boolean;
  /** Database to use instead of the connection's schema. Templated. */
  database?: string;
  /** Rows as arrays (Airflow's tuples, default) or objects keyed by column. */
  rowMode?: "array" | "object";
}

const FIELDS = [
  "connId",
  "sql",
  "parameters",
  "autocommit",
  "splitStatements",
  "returnLast",
  "showReturnValueInLogs",
  "database",
  "rowMode",
] as const;

/** The fields of an options object that are set, for BaseOperator. */
export function pick(options: object, names: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of names) {
    const v = (options as Record<string, unknown>)[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/**
 * @internal Opens a PostgreSQL session on the task's connection (with `database` overriding its
 * schema), runs `fn`, and closes it.
 */
export async function withPostgres<T>(
  input: ExecuteInput,
  connId: string,
  database: unknown,
  fn: (s: Awaited<ReturnType<typeof openSession>>) => Promise<T>,
): Promise<T> {
  const conn = await input.ctx.conn.get(connId);
  const session = await openSession(conn, database);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

async function openSession(conn: Connection, database: unknown) {
  const hooks = await loadHooks();
  return hooks.openPostgres(
    typeof database === "string" && database !== "" ? { ...conn, schema: database } : conn,
  );
}

/**
 * Runs SQL on a PostgreSQL connection and pushes the rows as XCom (Airflow's
 * `SQLExecuteQueryOperator`). Rows over core.xcom_max_size fail the task with a clear error.
 *
 * @example
 * ```ts
 * new SQLExecuteQueryOperator({
 *   taskId: "load",
 *   connId: "warehouse",
 *   sql: "insert into sales select * from staging.sales where day = $1",
 *   parameters: ["{{ ds }}"],
 * });
 * ```
 */
export class SQLExecuteQueryOperator extends BaseOperator {
  readonly operatorName: string = "SQLExecuteQueryOperator";
  static readonly mappableFields = ["sql", "parameters"] as const;

  /**
   * Starts a mapped SQLExecuteQueryOperator: fixed options now, one task instance per value in `expand`.
   *
   * @example
   * ```ts
   * SQLExecuteQueryOperator.partial({ taskId: "load", connId: "warehouse" }).expand({ sql: ["select 1", "select 2"] });
   * ```
   */
  static partial(
    options: Partial<SQLExecuteQueryOperatorOptions> & { taskId: string },
  ): MappedBuilder<SQLExecuteQueryOperatorOptions, "sql" | "parameters"> {
    return mappedOperator(SQLExecuteQueryOperator, options, SQLExecuteQueryOperator.mappableFields);
  }
  readonly templateFields: readonly string[] = ["connId", "postgresConnId", "sql", "parameters", "database"];

  constructor(
    options: SQLExecuteQueryOperatorOptions,
    extraFields: Record<string, unknown> = {},
    extraNames: readonly string[] = [],
  ) {
    super(options, { ...pick(options, FIELDS), ...extraFields }, [...FIELDS, ...extraNames]);
    checkSqlOption(this, options.sql);
  }

  protected connIdOf(fields: Record<string, unknown>): string {
    return typeof fields.connId === "string" ? fields.connId : "postgres_default";
  }

  async execute(input: ExecuteInput): Promise<unknown> {
    const { fields } = input;
    const statements = sqlStatements(this, input);
    const rowMode = fields.rowMode === "object" ? "object" : "array";
    console.log(
      `Running ${statements.length} SQL text(s) on connection "${this.connIdOf(fields)}"${fields.autocommit === true ? " (autocommit)" : ""}`,
    );
    const result: StatementRows | StatementRows[] = await withPostgres(
      input,
      this.connIdOf(fields),
      fields.database,
      (s) =>
        s.run(statements, {
          ...(Array.isArray(fields.parameters) ? { parameters: fields.parameters } : {}),
          autocommit: fields.autocommit === true,
          splitStatements: fields.splitStatements === true,
          returnLast: fields.returnLast !== false,
          rowMode,
        }),
    );
    if (this.options.doXcomPush === false) return undefined;
    const { checkXcomSize } = await loadHooks();
    checkXcomSize(
      result,
      `The rows returned by ${this.operatorName} "${this.taskId}"`,
      "Return fewer rows (LIMIT, an aggregate), write them to a table and push its name, or set doXcomPush: false.",
    );
    if (fields.showReturnValueInLogs === true) console.log(`Rows: ${JSON.stringify(result)}`);
    return result;
  }
}

/** Options of {@link PostgresOperator}: `postgresConnId` names the connection. */
export interface PostgresOperatorOptions extends Omit<SQLExecuteQueryOperatorOptions, "connId"> {
  /** Default `postgres_default`. */
  postgresConnId?: string;
}

/**
 * Airflow's `PostgresOperator`: a {@link SQLExecuteQueryOperator} whose connection is named
 * `postgresConnId`.
 *
 * @example
 * ```ts
 * new PostgresOperator({ taskId: "vacuum", postgresConnId: "warehouse", sql: "vacuum analyze sales", autocommit: true });
 * ```
 */
export class PostgresOperator extends SQLExecuteQueryOperator {
  override readonly operatorName: string = "PostgresOperator";
  static override readonly mappableFields = ["sql", "parameters"] as const;

  /**
   * Starts a mapped PostgresOperator: fixed options now, one task instance per value in `expand`.
   *
   * @example
   * ```ts
   * PostgresOperator.partial({ taskId: "load", postgresConnId: "warehouse" }).expand({ parameters: [["a"], ["b"]] });
   * ```
   */
  static override partial(
    options: Partial<PostgresOperatorOptions> & { taskId: string },
  ): MappedBuilder<PostgresOperatorOptions, "sql" | "parameters"> {
    return mappedOperator(PostgresOperator, options, PostgresOperator.mappableFields);
  }
  constructor(options: PostgresOperatorOptions) {
    const { postgresConnId, ...rest } = options;
    super(rest, postgresConnId === undefined ? {} : { postgresConnId }, ["postgresConnId"]);
  }
  protected override connIdOf(fields: Record<string, unknown>): string {
    return typeof fields.postgresConnId === "string" ? fields.postgresConnId : "postgres_default";
  }
}

/** Refuses at DAG load an empty `sql`. */
export function checkSqlOption(op: BaseOperator, sql: unknown): void {
  if (sql === MAPPED_VALUE) return;
  const list = Array.isArray(sql) ? sql : [sql];
  if (list.length === 0 || list.some((s) => typeof s !== "string" || s.trim() === ""))
    throw new UpdraftError(
      "INVALID_TASK",
      `${op.operatorName} "${op.taskId}": sql must be SQL text, a list of statements, or a .sql file name.`,
    );
}
