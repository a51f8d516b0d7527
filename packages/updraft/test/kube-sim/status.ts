/** Kubernetes Status objects and the error that carries one to the HTTP layer. */

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  causes?: StatusCause[];
}

/** An API error: becomes a `kind: Status` body with `code` as the HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    return statusObject(this.code, this.reason, this.message, this.details);
  }
}

export function statusObject(
  code: number,
  reason: string,
  message: string,
  details?: StatusDetails,
): Record<string, unknown> {
  return {
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: code < 400 ? "Success" : "Failure",
    message,
    reason,
    ...(details === undefined ? {} : { details }),
    code,
  };
}

/** `pods "x" not found`: the API server's wording, which clients and people match on. */
export function notFound(resource: string, name: string, group = ""): ApiError {
  return new ApiError(404, "NotFound", `${qualified(resource, group)} "${name}" not found`, {
    name,
    ...(group === "" ? {} : { group }),
    kind: resource,
  });
}

export function alreadyExists(resource: string, name: string, group = ""): ApiError {
  return new ApiError(409, "AlreadyExists", `${qualified(resource, group)} "${name}" already exists`, {
    name,
    ...(group === "" ? {} : { group }),
    kind: resource,
  });
}

export function conflict(resource: string, name: string, why: string, group = ""): ApiError {
  return new ApiError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${why}`,
    { name, kind: resource },
  );
}

/** 422 with one cause per problem, e.g. `Pod "X" is invalid: metadata.name: Invalid value: …`. */
export function invalid(kind: string, name: string, causes: StatusCause[], group = ""): ApiError {
  const text = causes.map((c) => (c.field === undefined ? c.message : `${c.field}: ${c.message}`)).join(", ");
  const shown = causes.length > 1 ? `[${text}]` : text;
  return new ApiError(422, "Invalid", `${kind} "${name}" is invalid: ${shown}`, {
    name,
    ...(group === "" ? {} : { group }),
    kind,
    causes: causes.map((c) => ({
      reason: c.reason ?? "FieldValueInvalid",
      message: c.message,
      field: c.field ?? "",
    })),
  });
}

export function badRequest(message: string): ApiError {
  return new ApiError(400, "BadRequest", message);
}

export function gone(message: string): ApiError {
  return new ApiError(410, "Expired", message);
}

function qualified(resource: string, group: string): string {
  return group === "" ? resource : `${resource}.${group}`;
}
