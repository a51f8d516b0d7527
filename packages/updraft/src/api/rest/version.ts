import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UPDRAFT_VERSION } from "../../common/version.js";
import { route } from "./common.js";

const Version = z
  .object({ version: z.string(), git_version: z.string().nullable() })
  .meta({ id: "VersionInfo" });

/** Airflow's `GET /api/v1/version`: open, as health is, since clients check it before logging in. */
export function versionRoutes() {
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const schema = { response: { 200: Version } };
    app.get("/api/v1/version", route("get_version", "Get the version", ["Monitoring"], schema), async () => ({
      version: UPDRAFT_VERSION,
      git_version: null,
    }));
  };
}
