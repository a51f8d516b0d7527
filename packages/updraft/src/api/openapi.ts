// The REST API's OpenAPI document, generated from the zod schemas that validate each route's
// requests and serialize its responses (decision 0015): the document cannot drift from the code,
// because there is no second description to drift.
import fastifySwagger from "@fastify/swagger";
import type { FastifyInstance } from "fastify";
import {
  hasZodFastifySchemaValidationErrors,
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
} from "fastify-type-provider-zod";
import { UpdraftError } from "../common/errors.js";
import { UPDRAFT_VERSION } from "../common/version.js";

export const OPENAPI_PATH = "/api/v1/openapi.json";

/**
 * Makes zod schemas on routes validate requests and responses, and collects them into the
 * OpenAPI document. Call on the root instance before any route is registered.
 */
export function registerOpenApi(app: FastifyInstance): void {
  const routes: PublicRoute[] = [];
  ROUTES.set(app, routes);
  app.addHook("onRoute", (r) => {
    const methods = Array.isArray(r.method) ? r.method : [r.method];
    for (const method of methods) {
      if (method === "HEAD" || !isPublicRoute(r.url) || r.url === OPENAPI_PATH) continue;
      const response = (r.schema as { response?: Record<string, unknown> } | undefined)?.response;
      routes.push({ method, url: r.url, described: response !== undefined });
    }
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  void app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Updraft REST API",
        version: UPDRAFT_VERSION,
        description:
          "Airflow 2's stable REST API shapes (snake_case JSON, limit/offset pagination with total_entries). Errors are application/problem+json.",
      },
    },
    // The execution API is for task runners, not users: it stays out of the public document.
    transform: (input) =>
      isPublicRoute(input.url)
        ? jsonSchemaTransform(input)
        : { schema: { ...input.schema, hide: true }, url: input.url },
    transformObject: jsonSchemaTransformObject,
  });
  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());
}

/** A route of the public API, as registered; `described` when it declares its responses. */
export interface PublicRoute {
  method: string;
  url: string;
  described: boolean;
}

const ROUTES = new WeakMap<FastifyInstance, PublicRoute[]>();

/** Every public route registered on a server (for tests that must cover them all). */
export function publicRoutes(app: FastifyInstance): readonly PublicRoute[] {
  return ROUTES.get(app) ?? [];
}

/** True for routes that belong in the public document. */
export function isPublicRoute(url: string): boolean {
  return url.startsWith("/api/v1/") || url === "/health";
}

/**
 * A request that failed its route's zod schema, as our error: a bad body is 422 (Airflow's
 * choice for a body that parses but does not fit), bad path or query parameters are 400. Both
 * list every problem, as the hand-written checks did.
 */
export function schemaValidationError(err: unknown): UpdraftError | null {
  if (!hasZodFastifySchemaValidationErrors(err)) return null;
  const where = (err as { validationContext?: string }).validationContext ?? "request";
  const problems = err.validation.map((v) => {
    const path = v.instancePath.replace(/^\//, "").replaceAll("/", ".");
    return `${path === "" ? "(root)" : path}: ${v.message ?? "invalid"}`;
  });
  return where === "body"
    ? new UpdraftError("REQUEST_INVALID", `The request body is invalid:\n- ${problems.join("\n- ")}`, {
        details: { problems },
      })
    : new UpdraftError("PARAMETER_INVALID", `Invalid request parameters:\n- ${problems.join("\n- ")}`, {
        details: { problems },
      });
}
