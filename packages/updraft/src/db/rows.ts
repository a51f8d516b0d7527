// A list of rows as a relation in a statement. jsonb_to_recordset makes any list one parameter, but
// the planner then assumes 100 rows and may scan and hash a whole table to join them; a hot
// statement usually carries one or a few rows. Up to VALUES_MAX rows are written as VALUES with
// one parameter per cell (the planner knows how many), longer lists as one JSON parameter.
import { sql, type RawBuilder } from "kysely";

/** A column of a row list: its name and PostgreSQL type. */
export type RowColumn = readonly [name: string, type: "text" | "int" | "boolean" | "float8" | "jsonb"];

const VALUES_MAX = 16;

/** `select … from <rows> as alias(columns)` for use as a CTE body or a subquery. */
export function rowsSql(
  rows: readonly Record<string, unknown>[],
  columns: readonly RowColumn[],
  alias = "r",
): RawBuilder<unknown> {
  const names = sql.raw(columns.map(([n]) => `"${n}"`).join(", "));
  const a = sql.raw(alias);
  if (rows.length === 0) {
    const nulls = sql.join(columns.map(([n, t]) => sql`null::${sql.raw(t)} as ${sql.raw(`"${n}"`)}`));
    return sql`select ${nulls} where false`;
  }
  if (rows.length > VALUES_MAX) {
    const defs = sql.raw(columns.map(([n, t]) => `"${n}" ${t}`).join(", "));
    return sql`select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as ${a}(${defs})`;
  }
  const tuples = rows.map(
    (r) =>
      sql`(${sql.join(
        columns.map(([n, t]) => {
          const v = r[n];
          const value = t === "jsonb" ? (v === undefined ? null : JSON.stringify(v)) : (v ?? null);
          return sql`${value}::${sql.raw(t)}`;
        }),
      )})`,
  );
  return sql`select * from (values ${sql.join(tuples)}) as ${a}(${names})`;
}
