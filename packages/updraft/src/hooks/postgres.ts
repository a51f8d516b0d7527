// PostgreSQL hook on `pg`: one client per hook, opened on first use and closed when the try ends.
import pg from "pg";
import type { Connection } from "../sdk/context.js";
import type { PostgresSession, Row, SqlRunOptions, StatementRows } from "../sdk/hooks.js";
import { expectConnType } from "./connection-type.js";
import { splitStatements } from "./split-statements.js";

/** pg's client options from an Airflow `postgres` connection (host, port, schema = database). */
export function postgresClientConfig(conn: Connection): pg.ClientConfig {
  expectConnType(conn, "PostgreSQL hook", ["postgres", "postgresql"]);
  const sslmode = typeof conn.extra["sslmode"] === "string" ? conn.extra["sslmode"] : undefined;
  const ssl =
    sslmode === undefined || sslmode === "disable" || sslmode === "allow" || sslmode === "prefer"
      ? undefined
      : sslmode === "verify-full" || sslmode === "verify-ca"
        ? true
        : { rejectUnauthorized: false };
  const connectTimeout = Number(conn.extra["connect_timeout"] ?? 10);
  return {
    host: conn.host ?? "localhost",
    port: conn.port ?? 5432,
    ...(conn.schema === null || conn.schema === "" ? {} : { database: conn.schema }),
    ...(conn.login === null ? {} : { user: conn.login }),
    ...(conn.password === null ? {} : { password: conn.password }),
    ...(ssl === undefined ? {} : { ssl }),
    connectionTimeoutMillis: Number.isFinite(connectTimeout) ? connectTimeout * 1000 : 10_000,
    application_name: "updraft",
  };
}

export function openPostgres(conn: Connection): PostgresSession {
  const config = postgresClientConfig(conn);
  let client: Promise<pg.Client> | null = null;
  const connect = () =>
    (client ??= (async () => {
      const c = new pg.Client(config);
      // A dropped connection is reported by the next query; an unhandled 'error' would end the runner.
      c.on("error", () => undefined);
      await c.connect();
      return c;
    })());

  const query = async <R extends Row>(sql: string, parameters?: readonly unknown[]): Promise<R[]> => {
    const c = await connect();
    const res = await c.query<R>(sql, parameters === undefined ? undefined : [...parameters]);
    return Array.isArray(res) ? ((res as pg.QueryResult<R>[]).at(-1)?.rows ?? []) : res.rows;
  };
  const getFirst = async <R extends Row>(
    sql: string,
    parameters?: readonly unknown[],
  ): Promise<R | undefined> => (await query<R>(sql, parameters))[0];

  async function statementRows(c: pg.Client, sql: string, o: SqlRunOptions): Promise<StatementRows[]> {
    const rowMode = o.rowMode ?? "array";
    const res = (await c.query({
      text: sql,
      ...(o.parameters === undefined ? {} : { values: [...o.parameters] }),
      ...(rowMode === "array" ? { rowMode: "array" } : {}),
    })) as pg.QueryResult | pg.QueryResult[];
    // Several statements in one text (simple protocol): pg answers with one result each.
    return (Array.isArray(res) ? res : [res]).map((r) => r.rows as unknown[]);
  }

  return {
    query,
    getFirst,
    async run(sql, o: SqlRunOptions = {}) {
      const texts = (typeof sql === "string" ? [sql] : [...sql]).flatMap((s) =>
        o.splitStatements === true ? splitStatements(s) : [s],
      );
      const c = await connect();
      const results: StatementRows[] = [];
      const autocommit = o.autocommit === true;
      if (!autocommit) await c.query("BEGIN");
      try {
        for (const text of texts) results.push(...(await statementRows(c, text, o)));
        if (!autocommit) await c.query("COMMIT");
      } catch (err) {
        if (!autocommit) await c.query("ROLLBACK").catch(() => undefined);
        throw err;
      }
      return o.returnLast === false ? results : (results.at(-1) ?? []);
    },
    async transaction(fn) {
      const c = await connect();
      await c.query("BEGIN");
      try {
        const out = await fn({ query, getFirst });
        await c.query("COMMIT");
        return out;
      } catch (err) {
        await c.query("ROLLBACK").catch(() => undefined);
        throw err;
      }
    },
    async close() {
      if (client === null) return;
      const c = client;
      client = null;
      await (await c.catch(() => null))?.end().catch(() => undefined);
    },
  };
}
