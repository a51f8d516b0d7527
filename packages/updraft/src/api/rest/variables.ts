import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import {
  addAuditLog,
  deleteVariable,
  getVariable,
  listVariables,
  setVariable,
  type Cipher,
  type Database,
} from "../../db/index.js";
import { isSensitiveKey, REDACTED } from "../../services/index.js";
import { Id, Page, Text, collection, route, actor } from "./common.js";

const KeyPath = z.object({ key: Id });
const CreateBody = z.object({ key: Id, value: Text, description: Text.nullable().optional() }).strict();
const PatchBody = z
  .object({ key: Id.optional(), value: Text.optional(), description: Text.nullable().optional() })
  .strict();
const Variable = z
  .object({ key: z.string(), value: z.string().nullable(), description: z.string().nullable() })
  .meta({ id: "Variable" });
const VariableCollection = collection("variables", Variable, "VariableCollection");

function notFound(key: string): UpdraftError {
  return new UpdraftError(
    "VARIABLE_NOT_FOUND",
    `Variable "${key}" does not exist. GET /api/v1/variables lists them.`,
  );
}

/** A variable's value is shown unless its key names a secret (password, token, …). */
function shown(key: string, value: string | null): string | null {
  return value !== null && isSensitiveKey(key) ? REDACTED : value;
}

export function variableRoutes(database: Database, cipher: Cipher) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["Variable"];
    const schema = { querystring: Page, response: { 200: VariableCollection } };
    app.get("/variables", route("get_variables", "List variables", tags, schema), async (request) => {
      const q = request.query;
      const [rows, total] = await Promise.all([
        listVariables(db, cipher, { limit: q.limit, offset: q.offset }),
        db
          .selectFrom("variable")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow(),
      ]);
      return {
        variables: rows.map((v) => ({ key: v.key, value: shown(v.key, v.val), description: v.description })),
        total_entries: Number(total.n),
      };
    });

    const one = { params: KeyPath, response: { 200: Variable } };
    app.get("/variables/:key", route("get_variable", "Get a variable", tags, one), async (request) => {
      const { key } = request.params;
      const v = await getVariable(db, cipher, key);
      if (v === undefined) throw notFound(key);
      return { key: v.key, value: shown(v.key, v.val), description: v.description };
    });

    const create = { body: CreateBody, response: { 200: Variable } };
    app.post("/variables", route("post_variables", "Create a variable", tags, create), async (request) => {
      const body = request.body;
      if ((await getVariable(db, cipher, body.key)) !== undefined) {
        throw new UpdraftError(
          "VARIABLE_EXISTS",
          `Variable "${body.key}" already exists. PATCH /api/v1/variables/{key} changes it.`,
        );
      }
      await setVariable(db, cipher, {
        key: body.key,
        val: body.value,
        description: body.description ?? null,
      });
      await addAuditLog(db, {
        event: "variable.create",
        owner: actor(request),
        extra: JSON.stringify({ key: body.key }),
      });
      return { key: body.key, value: shown(body.key, body.value), description: body.description ?? null };
    });

    const patch = { params: KeyPath, body: PatchBody, response: { 200: Variable } };
    app.patch(
      "/variables/:key",
      route("patch_variable", "Update a variable", tags, patch),
      async (request) => {
        const { key } = request.params;
        const body = request.body;
        if (body.key !== undefined && body.key !== key) {
          throw new UpdraftError(
            "REQUEST_INVALID",
            `The body's key "${body.key}" differs from the path's "${key}"; a variable cannot be renamed.`,
          );
        }
        const v = await getVariable(db, cipher, key);
        if (v === undefined) throw notFound(key);
        const next = {
          key,
          val: body.value ?? v.val,
          description: body.description === undefined ? v.description : body.description,
        };
        await setVariable(db, cipher, next);
        await addAuditLog(db, {
          event: "variable.update",
          owner: actor(request),
          extra: JSON.stringify({ key }),
        });
        return { key, value: shown(key, next.val), description: next.description };
      },
    );

    const del = { params: KeyPath, response: { 204: z.null() } };
    app.delete(
      "/variables/:key",
      route("delete_variable", "Delete a variable", tags, del),
      async (request, reply) => {
        const { key } = request.params;
        if (!(await deleteVariable(db, key))) throw notFound(key);
        await addAuditLog(db, {
          event: "variable.delete",
          owner: actor(request),
          extra: JSON.stringify({ key }),
        });
        return reply.code(204).send();
      },
    );
  };
}
