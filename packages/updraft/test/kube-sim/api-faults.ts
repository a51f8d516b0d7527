/** The Status an injected API error answers with: the reason and wording a real server uses for that code. */
import { parseRoute } from "./routes.js";
import { ApiError } from "./status.js";

const REASONS: Record<number, string> = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  405: "MethodNotAllowed",
  409: "Conflict",
  410: "Expired",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
  503: "ServiceUnavailable",
  504: "Timeout",
};

const VERBS: Record<string, string> = {
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
  GET: "get",
};

export function injectedError(status: number, method: string, url: URL, message?: string): ApiError {
  const reason = REASONS[status] ?? (status >= 500 ? "InternalError" : "BadRequest");
  return new ApiError(status, reason, message ?? defaultMessage(status, method, url));
}

function defaultMessage(status: number, method: string, url: URL): string {
  switch (status) {
    case 401:
      return "Unauthorized";
    case 403: {
      const route = parseRoute(url.pathname);
      const resource = route?.resource ?? "resource";
      let verb = VERBS[method] ?? method.toLowerCase();
      if (method === "GET" && route?.name === undefined)
        verb = url.searchParams.get("watch") === "true" ? "watch" : "list";
      const where =
        route?.namespace === undefined ? "at the cluster scope" : `in the namespace "${route.namespace}"`;
      return `${resource}${route?.name === undefined ? "" : ` "${route.name}"`} is forbidden: User "system:serviceaccount:default:default" cannot ${verb} resource "${resource}" in API group "${route?.group ?? ""}" ${where}`;
    }
    case 404:
      return "the server could not find the requested resource";
    case 429:
      return "Too many requests, please try again later.";
    case 503:
      return "the server is currently unable to handle the request";
    case 504:
      return "the server was unable to return a response in the time allotted, but may still be processing the request";
    default:
      return `Internal error occurred: injected fault (kube-sim) on ${method} ${url.pathname}`;
  }
}
