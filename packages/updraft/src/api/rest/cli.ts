// `POST /api/v1/cli`: a CLI command run inside the process that holds the embedded database
// (`updraft standalone` mounts it; the access hook opens it to Admins only, permission
// cli:execute). The schemas live here, with the route, so that the OpenAPI document, the server
// and the typed client the CLI calls it with (src/client) share one description.
import { isAbsolute } from "node:path";
import { PassThrough } from "node:stream";
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { route } from "./common.js";

/** The body: the arguments after `updraft`, and the caller's directory. */
export const cliRequestSchema = z
  .object({
    argv: z.array(z.string().max(100_000)).max(1000),
    cwd: z.string().refine(isAbsolute, "cwd must be an absolute path"),
  })
  .meta({ id: "CliRequest" });
export type CliRequest = z.infer<typeof cliRequestSchema>;

/** A whole reply (`application/json`). */
export const cliReplySchema = z
  .object({ stdout: z.string(), stderr: z.string(), exit_code: z.number().int() })
  .meta({ id: "CliReply" });
export type CliResult = z.infer<typeof cliReplySchema>;

/** One line of a streamed reply (`application/x-ndjson`): output as it happens, then the exit code. */
export const cliChunkSchema = z.union([
  z.object({ stdout: z.string() }),
  z.object({ stderr: z.string() }),
  z.object({ exit_code: z.number().int() }),
]);

/** Runs a command; `onOutput` sees its output as it is written. */
export type RunCli = (
  request: CliRequest,
  onOutput?: (stream: "stdout" | "stderr", text: string) => void,
) => Promise<CliResult>;

/**
 * Mounts `POST /api/v1/cli` on the root instance (before the server listens). A client that
 * accepts `application/x-ndjson` gets the output line by line as the command writes it, then
 * `{"exit_code": n}`; any other gets one JSON reply at the end.
 */
export function mountCliRoute(root: FastifyInstance, runCli: RunCli): void {
  // As a plugin, so that it loads after @fastify/swagger's and is in the OpenAPI document.
  void root.register(async (plugin) => cliRoute(plugin, runCli));
}

function cliRoute(instance: FastifyInstance, runCli: RunCli): void {
  const app = instance.withTypeProvider<ZodTypeProvider>();
  const schema = { body: cliRequestSchema, response: { 200: cliReplySchema } };
  app.post(
    "/api/v1/cli",
    route("run_cli_command", "Run an updraft CLI command in the server", ["CLI"], schema),
    async (request, reply) => {
      if (!String(request.headers.accept ?? "").includes("application/x-ndjson")) {
        return runCli(request.body);
      }
      const out = new PassThrough();
      const line = (chunk: z.infer<typeof cliChunkSchema>): boolean =>
        out.write(`${JSON.stringify(chunk)}\n`);
      void runCli(request.body, (stream, text) => line({ [stream]: text } as { stdout: string }))
        .then((result) => out.end(`${JSON.stringify({ exit_code: result.exit_code })}\n`))
        .catch((err: unknown) => out.destroy(err instanceof Error ? err : new Error(String(err))));
      // A stream is sent as it is (Fastify does not serialize streams); the schema above describes
      // the JSON form, the ndjson lines are `cliChunkSchema`.
      return reply.type("application/x-ndjson").send(out as never);
    },
  );
}
