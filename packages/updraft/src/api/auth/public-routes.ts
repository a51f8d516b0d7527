// The routes that answer without credentials. Everything else the API server registers needs
// them: the REST API a user's credentials (checked by access-hook.ts), the execution API a task's
// token (checked by its own hook). A route is public only by being listed here.

/**
 * The UI's client-side paths: each answers with the UI's index.html, whose router shows the page.
 * Listed one by one, not as a catch-all `/*`, so that an unknown URL (under /api/v1 above all)
 * still needs credentials before it answers 404. A new top-level page of the UI is added here.
 */
export const UI_PAGE_ROUTES: readonly string[] = [
  "/",
  "/login",
  "/dags",
  "/dags/*",
  "/browse",
  "/browse/*",
  "/admin",
  "/admin/*",
];

/** `METHOD /url-pattern` of each public route (Fastify's pattern, with the prefix). */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set([
  "GET /health",
  "HEAD /health",
  "GET /api/v1/health",
  "HEAD /api/v1/health",
  "GET /api/v1/version",
  "HEAD /api/v1/version",
  // The OpenAPI document describes the API; it holds no data (clients fetch it before logging in).
  "GET /api/v1/openapi.json",
  "HEAD /api/v1/openapi.json",
  // Takes the credentials in its body; rate limited per user name and address.
  "POST /api/v1/auth/login",
  // The web UI's page and its static files (api/ui-assets.ts): they hold no data, so the login
  // page can load; every piece of data the page shows comes from the REST API, which needs login.
  ...UI_PAGE_ROUTES.flatMap((url) => [`GET ${url}`, `HEAD ${url}`]),
  "GET /assets/*",
  "HEAD /assets/*",
]);

/**
 * GET /metrics, public only when metrics.prometheus_public is set (a Prometheus without
 * credentials scrapes it); otherwise it needs metrics:read like any route (permissions.ts).
 */
export const METRICS_ROUTES: ReadonlySet<string> = new Set(["GET /metrics", "HEAD /metrics"]);

/** The execution API authenticates task tokens itself (api/execution/auth.ts). */
export const EXECUTION_PREFIX = "/execution/";

export function routeKey(method: string, url: string): string {
  return `${method.toUpperCase()} ${url}`;
}

export function isPublicRoute(method: string, url: string | undefined): boolean {
  return url !== undefined && PUBLIC_ROUTES.has(routeKey(method, url));
}
