import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import {
  addAuditLog,
  deleteConnection,
  getConnection,
  listConnections,
  setConnection,
  type Cipher,
  type Connection,
  type Database,
} from "../../db/index.js";
import { REDACTED, redactSensitive } from "../../services/index.js";
import { Id, Page, Text, collection, route, actor } from "./common.js";

const ConnPath = z.object({ connection_id: Id });
const Extra = z
  .union([Text, z.record(z.string(), z.unknown())])
  .nullable()
  .transform((v) => (v === null ? null : typeof v === "string" ? v : JSON.stringify(v)));
const Fields = {
  conn_type: Id,
  description: Text.nullable().optional(),
  host: Text.nullable().optional(),
  login: Text.nullable().optional(),
  schema: Text.nullable().optional(),
  port: z.number().int().min(0).max(65535).nullable().optional(),
  password: Text.nullable().optional(),
  extra: Extra.optional(),
};
const CreateBody = z.object({ connection_id: Id, ...Fields }).strict();
const PatchBody = z.object({ connection_id: Id.optional(), ...Fields, conn_type: Id.optional() }).strict();

/** What readers see: the password never, and extra (a JSON string) with its secret keys redacted. */
const ConnectionJson = z
  .object({
    connection_id: z.string(),
    conn_type: z.string(),
    description: z.string().nullable(),
    host: z.string().nullable(),
    login: z.string().nullable(),
    schema: z.string().nullable(),
    port: z.number().int().nullable(),
    extra: z.string().nullable(),
  })
  .meta({ id: "Connection" });
const ConnectionCollection = collection("connections", ConnectionJson, "ConnectionCollection");

function notFound(connId: string): UpdraftError {
  return new UpdraftError(
    "CONNECTION_NOT_FOUND",
    `Connection "${connId}" does not exist. GET /api/v1/connections lists them.`,
  );
}

/** A connection as readers see it: never the password, and extra with its secret keys redacted. */
function connectionJson(c: Connection) {
  let extra: string | null = c.extra;
  if (extra !== null && extra !== "") {
    try {
      extra = JSON.stringify(redactSensitive(JSON.parse(extra)));
    } catch {
      extra = REDACTED;
    }
  }
  return {
    connection_id: c.connId,
    conn_type: c.connType,
    description: c.description,
    host: c.host,
    login: c.login,
    schema: c.schema,
    port: c.port,
    extra,
  };
}

export function connectionRoutes(database: Database, cipher: Cipher) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["Connection"];
    const list = { querystring: Page, response: { 200: ConnectionCollection } };
    app.get("/connections", route("get_connections", "List connections", tags, list), async (request) => {
      const q = request.query;
      const [rows, total] = await Promise.all([
        listConnections(db, cipher, { limit: q.limit, offset: q.offset }),
        db
          .selectFrom("connection")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow(),
      ]);
      return { connections: rows.map(connectionJson), total_entries: Number(total.n) };
    });

    const one = { params: ConnPath, response: { 200: ConnectionJson } };
    app.get(
      "/connections/:connection_id",
      route("get_connection", "Get a connection", tags, one),
      async (request) => {
        const { connection_id } = request.params;
        const c = await getConnection(db, cipher, connection_id);
        if (c === undefined) throw notFound(connection_id);
        return connectionJson(c);
      },
    );

    const create = { body: CreateBody, response: { 200: ConnectionJson } };
    app.post(
      "/connections",
      route("post_connection", "Create a connection", tags, create),
      async (request) => {
        const body = request.body;
        if ((await getConnection(db, cipher, body.connection_id)) !== undefined) {
          throw new UpdraftError(
            "CONNECTION_EXISTS",
            `Connection "${body.connection_id}" already exists. PATCH /api/v1/connections/{connection_id} changes it.`,
          );
        }
        const conn: Connection = {
          connId: body.connection_id,
          connType: body.conn_type,
          description: body.description ?? null,
          host: body.host ?? null,
          login: body.login ?? null,
          schema: body.schema ?? null,
          port: body.port ?? null,
          password: body.password ?? null,
          extra: body.extra ?? null,
        };
        await setConnection(db, cipher, conn);
        await addAuditLog(db, {
          event: "connection.create",
          owner: actor(request),
          extra: JSON.stringify({ conn_id: conn.connId }),
        });
        return connectionJson(conn);
      },
    );

    const patch = { params: ConnPath, body: PatchBody, response: { 200: ConnectionJson } };
    const patchRoute = route("patch_connection", "Update a connection", tags, patch);
    app.patch("/connections/:connection_id", patchRoute, async (request) => {
      const { connection_id } = request.params;
      const body = request.body;
      if (body.connection_id !== undefined && body.connection_id !== connection_id) {
        throw new UpdraftError(
          "REQUEST_INVALID",
          `The body's connection_id "${body.connection_id}" differs from the path's "${connection_id}".`,
        );
      }
      const c = await getConnection(db, cipher, connection_id);
      if (c === undefined) throw notFound(connection_id);
      const next: Connection = {
        connId: connection_id,
        connType: body.conn_type ?? c.connType,
        description: body.description === undefined ? c.description : body.description,
        host: body.host === undefined ? c.host : body.host,
        login: body.login === undefined ? c.login : body.login,
        schema: body.schema === undefined ? c.schema : body.schema,
        port: body.port === undefined ? c.port : body.port,
        password: body.password === undefined ? c.password : body.password,
        extra: body.extra === undefined ? c.extra : body.extra,
      };
      await setConnection(db, cipher, next);
      await addAuditLog(db, {
        event: "connection.update",
        owner: actor(request),
        extra: JSON.stringify({ conn_id: connection_id }),
      });
      return connectionJson(next);
    });

    const del = { params: ConnPath, response: { 204: z.null() } };
    const delRoute = route("delete_connection", "Delete a connection", tags, del);
    app.delete("/connections/:connection_id", delRoute, async (request, reply) => {
      const { connection_id } = request.params;
      if (!(await deleteConnection(db, connection_id))) throw notFound(connection_id);
      await addAuditLog(db, {
        event: "connection.delete",
        owner: actor(request),
        extra: JSON.stringify({ conn_id: connection_id }),
      });
      return reply.code(204).send();
    });
  };
}
