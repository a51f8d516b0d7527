import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import { listImportErrors, type Database } from "../../db/index.js";
import { Page, collection, route } from "./common.js";
import { importErrorJson } from "./serialize.js";

const IdPath = z.object({
  import_error_id: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1),
});

const ImportErrorJson = z
  .object({
    import_error_id: z.number().int(),
    timestamp: z.string().nullable(),
    filename: z.string(),
    stack_trace: z.string(),
    /** The line of the DAG file the error points at, when known (Updraft's addition). */
    line: z.number().int().nullable(),
  })
  .meta({ id: "ImportError" });
const ImportErrorCollection = collection("import_errors", ImportErrorJson, "ImportErrorCollection");

export function importErrorRoutes(database: Database) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["ImportError"];
    const list = { querystring: Page, response: { 200: ImportErrorCollection } };
    app.get(
      "/importErrors",
      route("get_import_errors", "List import errors", tags, list),
      async (request) => {
        const q = request.query;
        const [rows, total] = await Promise.all([
          listImportErrors(db, { limit: q.limit, offset: q.offset }),
          db
            .selectFrom("import_error")
            .select((eb) => eb.fn.countAll<number>().as("n"))
            .executeTakeFirstOrThrow(),
        ]);
        return { import_errors: rows.map(importErrorJson), total_entries: Number(total.n) };
      },
    );

    const one = { params: IdPath, response: { 200: ImportErrorJson } };
    app.get(
      "/importErrors/:import_error_id",
      route("get_import_error", "Get an import error", tags, one),
      async (request) => {
        const { import_error_id } = request.params;
        const row = await db
          .selectFrom("import_error")
          .selectAll()
          .where("id", "=", import_error_id)
          .executeTakeFirst();
        if (row === undefined)
          throw new UpdraftError("IMPORT_ERROR_NOT_FOUND", `There is no import error ${import_error_id}.`);
        return importErrorJson(row);
      },
    );
  };
}
