// The one gate in front of every route of the API server (an onRequest hook on the root
// instance, so that routes mounted later, such as standalone's /api/v1/cli, pass it too): public
// routes pass, the execution API checks its own task tokens, and every other request must be
// authenticated (401), allowed by the permission table (403), and, when it changes state on the
// strength of a session cookie, carry the session's CSRF token (403).
// See docs/decisions/0014-users-roles-and-auth.md.
import type { FastifyReply, FastifyRequest } from "fastify";
import { checkCsrf, type Principal } from "./authenticate.js";
import { authorize } from "./permissions.js";
import { EXECUTION_PREFIX, isPublicRoute, routeKey } from "./public-routes.js";

export type { Principal } from "./authenticate.js";

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

/** `extraPublic`: routes made public by a setting (GET /metrics with metrics.prometheus_public). */
export function accessHook(authenticate: Authenticate, extraPublic?: ReadonlySet<string>) {
  return async function access(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    if (isExecutionRequest(request)) return;
    const url = request.routeOptions.url;
    if (isPublicRoute(request.method, url)) return;
    if (url !== undefined && extraPublic?.has(routeKey(request.method, url)) === true) return;
    const principal = await authenticate(request, reply);
    request.principal = principal;
    // Unknown routes need credentials too (then 404), so that routes cannot be probed without them.
    if (url === undefined) return;
    authorize(principal, request.method, url);
    checkCsrf(request, principal);
  };
}
