// GET /dagSources/{file_token}: a DAG file's code, as Airflow's get_dag_source. The code comes
// from the dag_code table the DAG processor writes; the token (api/file-token.ts) only names a row.
// Nothing here reads the filesystem: a forged or tampered token, or one for a file whose code is
// not stored, is 404.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import { getDagCode, type Database } from "../../db/index.js";
import type { FileTokens } from "../file-token.js";
import { route } from "./common.js";

/** base64url claims, a dot, base64url signature: anything else is refused before the handler. */
const FileToken = z
  .string()
  .min(1)
  .max(16_384)
  .regex(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, "must be a file_token from a DAG reply");
const SourcePath = z.object({ file_token: FileToken });
const DagSource = z.object({ content: z.string() }).meta({ id: "DAGSource" });

function sourceNotFound(): UpdraftError {
  return new UpdraftError(
    "DAG_SOURCE_NOT_FOUND",
    "No DAG source for this file_token: it is not one the server issued, or the file's code is no longer stored. Take file_token from GET /api/v1/dags/{dag_id}.",
  );
}

export function dagSourceRoutes(database: Database, tokens: FileTokens) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const get = { params: SourcePath, response: { 200: DagSource } };
    app.get(
      "/dagSources/:file_token",
      route("get_dag_source", "Get a DAG file's code", ["DagSource"], get),
      async (request, reply) => {
        const fileloc = tokens.verify(request.params.file_token);
        if (fileloc === undefined) throw sourceNotFound();
        const code = await getDagCode(db, fileloc);
        if (code === undefined) throw sourceNotFound();
        if ((request.headers.accept ?? "").includes("text/plain")) {
          // A string with a non-JSON content type bypasses the JSON serializer.
          const text = code.source_code as unknown as z.infer<typeof DagSource>;
          return reply.type("text/plain; charset=utf-8").send(text);
        }
        return { content: code.source_code };
      },
    );
  };
}
