import { UpdraftError, describeError } from "../common/errors.js";

/** The HTTP status of an error from the official client, or undefined for other errors. */
export function apiStatus(err: unknown): number | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "number" && code >= 100 && code < 600 ? code : undefined;
}

/** The server's own message (a Status object's `message`), when the body carries one. */
export function apiMessage(err: unknown): string | undefined {
  let body = (err as { body?: unknown } | null)?.body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body) as unknown;
    } catch {
      const text = (body as string).trim();
      return text === "" ? undefined : text.slice(0, 500);
    }
  }
  const message = (body as { message?: unknown } | null)?.message;
  return typeof message === "string" ? message : undefined;
}

/** What to do about an API answer, by status. */
function adviceFor(status: number | undefined, namespace: string): string {
  switch (status) {
    case 401:
      return "The credentials were refused: check the kubeconfig (or the connection's kube_config) and that its token has not expired.";
    case 403:
      return `The service account or user may not do this in namespace "${namespace}": grant it the verb in a Role bound to it (Pods: create, get, list, watch, delete, patch and pods/log get; SparkApplications: create, get, delete).`;
    case 404:
      return `Check that namespace "${namespace}" exists (and, for a SparkApplication, that the Spark operator's CRD is installed).`;
    case 409:
      return "An object of that name exists already: wait for it to be deleted, or delete it by hand.";
    case 422:
      return "The server refused the object as invalid: fix the operator's arguments named in the message.";
    case undefined:
      return "Check that the cluster's API server is reachable from the task runner (KUBECONFIG, in-cluster config or the connection).";
    default:
      return status >= 500
        ? "The API server failed: retry the task; if it keeps failing, look at the API server's health."
        : "Look at the message above for what the server refused.";
  }
}

/**
 * An error from the Kubernetes API as a task error: what was being done to which object, the
 * server's status and message, and what to do about it.
 *
 * @example kubeApiError(err, "create Pod airflow/feature-prep-…", "airflow")
 */
export function kubeApiError(err: unknown, doing: string, namespace: string): UpdraftError {
  const status = apiStatus(err);
  const message = apiMessage(err) ?? (status === undefined ? describeError(err) : undefined);
  const answer =
    status === undefined
      ? `failed: ${message ?? "no answer"}`
      : `got ${status}${message ? `: ${message}` : ""}`;
  return new UpdraftError(
    "KUBERNETES_API",
    `Could not ${doing}: the API server ${answer}. ${adviceFor(status, namespace)}`,
    {
      cause: err,
      ...(status === undefined ? {} : { details: { status } }),
    },
  );
}
