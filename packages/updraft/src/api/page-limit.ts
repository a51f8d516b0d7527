// Every REST list's page size is capped here, once: `limit` in a query and `page_limit` in a batch
// list's body, after their schemas validated them. As Airflow's webserver.maximum_page_limit, a
// larger request is not an error: it gets a page of the maximum size (and `total_entries` says
// how many there are), so a client that asks for "everything" still learns it must page.
import type { FastifyRequest } from "fastify";

const PUBLIC_API = "/api/v1/";

/** A preHandler that lowers `limit`/`page_limit` to `maximum` on /api/v1 routes. */
export function pageLimitCap(maximum: number) {
  return async function capPageLimit(request: FastifyRequest): Promise<void> {
    if (!request.url.startsWith(PUBLIC_API)) return;
    const query = request.query as Record<string, unknown> | null | undefined;
    if (query !== null && typeof query === "object" && typeof query["limit"] === "number")
      query["limit"] = Math.min(query["limit"], maximum);
    const body = request.body as Record<string, unknown> | null | undefined;
    if (body !== null && typeof body === "object" && typeof body["page_limit"] === "number")
      body["page_limit"] = Math.min(body["page_limit"], maximum);
  };
}
