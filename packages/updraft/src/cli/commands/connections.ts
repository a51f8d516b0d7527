// `updraft connections …`: connections to external systems. Passwords are never printed.
import { Option, type Command } from "commander";
import { UpdraftError } from "../../common/errors.js";
import {
  createCipher,
  deleteConnection,
  getConnection,
  listConnections,
  setConnection,
  type Connection,
} from "../../db/index.js";
import { redactSensitive, REDACTED } from "../../services/index.js";
import { withDatabase } from "../database.js";
import { parseConnectionUri, parseExtraOption, parsePort } from "../../model/connection-uri.js";
import { connEnvName, connectionFromEnv } from "../../model/env-connection.js";
import { cell, printJson, printTable, usesDatabase, type CliContext } from "./context.js";

interface AddOptions {
  connUri?: string;
  connType?: string;
  connHost?: string;
  connLogin?: string;
  connPassword?: string;
  connPort?: string;
  connSchema?: string;
  connExtra?: string;
  connDescription?: string;
}

function notFound(connId: string): UpdraftError {
  return new UpdraftError(
    "CONNECTION_NOT_FOUND",
    `Connection "${connId}" does not exist. Run \`updraft connections list\` to see the ids.`,
    { details: { conn_id: connId } },
  );
}

function fromOptions(connId: string, opts: AddOptions): Connection {
  const fields = [
    opts.connType,
    opts.connHost,
    opts.connLogin,
    opts.connPassword,
    opts.connPort,
    opts.connSchema,
  ];
  if (opts.connUri !== undefined) {
    if (fields.some((f) => f !== undefined)) {
      throw new UpdraftError(
        "CONNECTION_INVALID",
        "Give either --conn-uri or --conn-type with the --conn-* fields, not both.",
      );
    }
    const conn = parseConnectionUri(connId, opts.connUri);
    if (opts.connExtra !== undefined) conn.extra = parseExtraOption(opts.connExtra);
    return { ...conn, description: opts.connDescription ?? null };
  }
  if (opts.connType === undefined || opts.connType === "") {
    throw new UpdraftError(
      "CONNECTION_INVALID",
      "A connection needs --conn-uri URI, or --conn-type TYPE (with --conn-host, --conn-login, --conn-password, --conn-port, --conn-schema, --conn-extra as needed).",
    );
  }
  return {
    connId,
    connType: opts.connType,
    description: opts.connDescription ?? null,
    host: opts.connHost ?? null,
    schema: opts.connSchema ?? null,
    login: opts.connLogin ?? null,
    password: opts.connPassword ?? null,
    port: opts.connPort === undefined ? null : parsePort(opts.connPort),
    extra: opts.connExtra === undefined ? null : parseExtraOption(opts.connExtra),
  };
}

/** What the CLI shows: the password as *** when set, secrets inside extra redacted too. */
function shown(conn: Connection, hasPassword: boolean): Record<string, unknown> {
  let extra: unknown = null;
  if (conn.extra !== null) {
    try {
      extra = redactSensitive(JSON.parse(conn.extra));
    } catch {
      extra = REDACTED;
    }
  }
  return {
    conn_id: conn.connId,
    conn_type: conn.connType,
    description: conn.description,
    host: conn.host,
    schema: conn.schema,
    login: conn.login,
    password: hasPassword ? REDACTED : null,
    port: conn.port,
    extra,
  };
}

const COLUMNS = ["conn_id", "conn_type", "host", "port", "schema", "login", "password", "extra"];

export function registerConnectionsCommands(program: Command, ctx: CliContext): void {
  const connections = program.command("connections").description("add, get, list and delete connections");

  usesDatabase(
    connections
      .command("add")
      .description("add a connection, from a URI or from fields")
      .argument("<conn_id>")
      .option(
        "--conn-uri <uri>",
        "type://login:password@host:port/schema?extra=value (percent-encode special characters)",
      )
      .option("--conn-type <type>", "connection type, such as postgres or http")
      .option("--conn-host <host>")
      .option("--conn-login <login>")
      .option("--conn-password <password>")
      .option("--conn-port <port>")
      .option("--conn-schema <schema>")
      .option("--conn-extra <json>", "extra fields as a JSON object")
      .option("--conn-description <text>")
      .action(async (connId: string, opts: AddOptions) => {
        if (connId === "") throw new UpdraftError("CONNECTION_INVALID", "A connection id cannot be empty.");
        const conn = fromOptions(connId, opts);
        await withDatabase(ctx, async (database, config) => {
          const cipher = createCipher(config.core.fernet_key);
          const exists = await database.db
            .selectFrom("connection")
            .select("conn_id")
            .where("conn_id", "=", connId)
            .executeTakeFirst();
          if (exists !== undefined) {
            throw new UpdraftError(
              "CONNECTION_EXISTS",
              `A connection with id "${connId}" exists already. Delete it first (\`updraft connections delete ${connId}\`) to replace it.`,
            );
          }
          await setConnection(database.db, cipher, conn);
          ctx.io.out(`Connection ${connId} (${conn.connType}) added.\n`);
        });
      }),
  );

  usesDatabase(
    connections
      .command("get")
      .description(
        "show a connection (the password as ***); one defined by UPDRAFT_CONN_<ID> in the environment comes first, as tasks get it",
      )
      .argument("<conn_id>")
      .addOption(
        new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
      )
      .action(async (connId: string, opts: { output: string }) => {
        const print = (conn: Connection) => {
          const row = shown(conn, conn.password !== null);
          if (opts.output === "json") printJson(ctx, row);
          else printTable(ctx, COLUMNS, [COLUMNS.map((c) => cell(row[c]))]);
        };
        // As Airflow's `connections get`: the environment's connection is the one a lookup gets
        // (decision 0039), so it is the one shown, and said to come from there. A bad value is
        // CONNECTION_ENV_INVALID naming the variable.
        const fromEnv = connectionFromEnv(connId, process.env);
        if (fromEnv !== undefined) {
          print(fromEnv);
          ctx.io.err(
            `Connection "${connId}" comes from the environment variable ${connEnvName(connId)}, which takes precedence over a connection of that id in the database.\n`,
          );
          return;
        }
        await withDatabase(ctx, async (database, config) => {
          const conn = await getConnection(database.db, createCipher(config.core.fernet_key), connId);
          if (conn === undefined) throw notFound(connId);
          print(conn);
        });
      }),
  );

  usesDatabase(
    connections
      .command("list")
      .description("list the connections (passwords as ***)")
      .addOption(
        new Option("-o, --output <format>", "output format").choices(["table", "json"]).default("table"),
      )
      .action(async (opts: { output: string }) => {
        await withDatabase(ctx, async (database, config) => {
          const all = await listConnections(database.db, createCipher(config.core.fernet_key));
          const withPassword = new Set(
            (
              await database.db
                .selectFrom("connection")
                .select("conn_id")
                .where("password", "is not", null)
                .execute()
            ).map((r) => r.conn_id),
          );
          const rows = all.map((c) => shown(c, withPassword.has(c.connId)));
          if (opts.output === "json") printJson(ctx, rows);
          else if (rows.length === 0) ctx.io.out("No connections.\n");
          else
            printTable(
              ctx,
              COLUMNS,
              rows.map((r) => COLUMNS.map((c) => cell(r[c]))),
            );
        });
      }),
  );

  usesDatabase(
    connections
      .command("delete")
      .description("delete a connection")
      .argument("<conn_id>")
      .action(async (connId: string) => {
        await withDatabase(ctx, async (database) => {
          if (!(await deleteConnection(database.db, connId))) throw notFound(connId);
          ctx.io.out(`Connection ${connId} deleted.\n`);
        });
      }),
  );
}
