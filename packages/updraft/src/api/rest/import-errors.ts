import type { FastifyInstance } from "fastify";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import { listImportErrors, type Database } from "../../db/index.js";
import { parseParams } from "../validate.js";
import { Page } from "./common.js";
import { importErrorJson } from "./serialize.js";

const IdPath = z.object({
  import_error_id: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1),
});

export function importErrorRoutes(database: Database) {
  const db = database.db;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get("/importErrors", async (request) => {
      const q = parseParams(Page, request.query);
      const [rows, total] = await Promise.all([
        listImportErrors(db, { limit: q.limit, offset: q.offset }),
        db
          .selectFrom("import_error")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow(),
      ]);
      return { import_errors: rows.map(importErrorJson), total_entries: Number(total.n) };
    });

    app.get("/importErrors/:import_error_id", async (request) => {
      const { import_error_id } = parseParams(IdPath, request.params);
      const row = await db
        .selectFrom("import_error")
        .selectAll()
        .where("id", "=", import_error_id)
        .executeTakeFirst();
      if (row === undefined)
        throw new UpdraftError("IMPORT_ERROR_NOT_FOUND", `There is no import error ${import_error_id}.`);
      return importErrorJson(row);
    });
  };
}
