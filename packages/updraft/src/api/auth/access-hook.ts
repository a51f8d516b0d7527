// The one gate in front of every route of the API server (an onRequest hook on the root
// instance, so that routes mounted later, such as standalone's /api/v1/cli, pass it too): public
// routes pass, the execution API checks its own task tokens, and everything else needs
// credentials. See docs/decisions/0014-users-roles-and-auth.md.
import type { FastifyReply, FastifyRequest } from "fastify";
import { EXECUTION_PREFIX, isPublicRoute } from "./public-routes.js";

/** Who made a request, once authenticated. */
export interface Principal {
  username: string;
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the access hook for every authenticated request; null on public routes. */
    principal: Principal | null;
  }
}

/** Turns a request's credentials into a principal, or throws UNAUTHORIZED (401). */
export type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<Principal>;

/** True for a request the execution API's own hook authenticates (a task token). */
function isExecutionRequest(request: FastifyRequest): boolean {
  const url = request.routeOptions.url;
  if (url !== undefined) return url.startsWith(EXECUTION_PREFIX);
  return (request.url.split("?")[0] ?? "").startsWith(EXECUTION_PREFIX);
}

export function accessHook(authenticate: Authenticate) {
  return async function access(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (isExecutionRequest(request)) return;
    if (isPublicRoute(request.method, request.routeOptions.url)) return;
    // Unknown routes need credentials too (then 404), so that routes cannot be probed without them.
    request.principal = await authenticate(request, reply);
  };
}
