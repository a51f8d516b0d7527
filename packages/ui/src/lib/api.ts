// The one REST client of the UI: the typed client generated from the server's OpenAPI document,
// with the session cookie (same origin) and its CSRF token on every request that changes state.
import { createUpdraftClient, CSRF_COOKIE } from "updraft/client";

function readCookie(name: string): string | null {
  for (const part of document.cookie.split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return null;
}

export const api = createUpdraftClient({ baseUrl: "", csrfToken: () => readCookie(CSRF_COOKIE) });

// Marks the UI's requests: a 401 then challenges Bearer only, not Basic, so the browser does not
// open its own password dialog over the page's login form (api/auth/authenticate.ts).
api.use({
  onRequest({ request }) {
    request.headers.set("x-requested-with", "XMLHttpRequest");
    return request;
  },
});

/** An API error as the UI shows it: the problem+json's status and detail. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Problem {
  detail?: string;
  title?: string;
}

/**
 * The data of a client call, or throws ApiError with the server's own message (problem+json).
 *
 * @example
 * ```ts
 * const dags = await unwrap(api.GET("/api/v1/dags", { params: { query: { limit: 100 } } }));
 * ```
 */
export async function unwrap<T>(
  call: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  const { data, error, response } = await call;
  if (error !== undefined || !response.ok) {
    const p = (typeof error === "object" && error !== null ? error : {}) as Problem;
    throw new ApiError(response.status, p.detail ?? p.title ?? `${response.status} ${response.statusText}`);
  }
  return data as T;
}
