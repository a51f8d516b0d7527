// THE permission table: which permission (resource:action) each route needs, and which
// permissions each role holds. The access hook checks every authenticated request against it;
// a route that is not listed here is refused to everyone (deny by default), so a new route is
// unreachable until someone decides who may call it.
//
// The roles mean what Airflow 2's FAB auth manager's roles mean
// (airflow/providers/fab/auth_manager/security_manager/override.py: VIEWER_PERMISSIONS,
// USER_PERMISSIONS, OP_PERMISSIONS, ADMIN_PERMISSIONS, ROLE_CONFIGS), each containing the one
// below it:
// - Viewer reads DAGs (and their code), runs, task instances, logs, pools, workers, assets and import errors,
//   and the metrics at GET /metrics (Updraft's own permission, metrics:read);
// - User also triggers, clears and marks runs and task instances, pauses DAGs, deletes runs;
// - Op also manages variables, connections and pools, forgets offline workers, reads the configuration,
//   and creates asset events by hand;
// - Admin also manages users and roles (and runs CLI commands through standalone).
import { UpdraftError } from "../../common/errors.js";
import { routeKey } from "./public-routes.js";

export type Permission = `${string}:${"read" | "create" | "edit" | "delete" | "execute"}`;

/** The permission each route needs, by `METHOD /url-pattern` (Fastify's pattern, with the prefix). */
export const ROUTE_PERMISSIONS: Readonly<Record<string, Permission>> = {
  "GET /api/v1/dags": "dags:read",
  "GET /api/v1/dags/:dag_id": "dags:read",
  "PATCH /api/v1/dags/:dag_id": "dags:edit",
  "PATCH /api/v1/dags": "dags:edit",
  "GET /api/v1/dags/:dag_id/details": "dags:read",
  "GET /api/v1/dags/:dag_id/tasks": "dags:read",
  "GET /api/v1/dags/:dag_id/tasks/:task_id": "dags:read",
  "GET /api/v1/dagSources/:file_token": "dag_code:read",
  "GET /api/v1/dags/:dag_id/dagRuns": "dag_runs:read",
  "POST /api/v1/dags/:dag_id/dagRuns": "dag_runs:create",
  "POST /api/v1/dags/~/dagRuns/list": "dag_runs:read",
  "GET /api/v1/dags/:dag_id/dagRuns/:dag_run_id": "dag_runs:read",
  "PATCH /api/v1/dags/:dag_id/dagRuns/:dag_run_id": "dag_runs:edit",
  "DELETE /api/v1/dags/:dag_id/dagRuns/:dag_run_id": "dag_runs:delete",
  "POST /api/v1/dags/:dag_id/dagRuns/:dag_run_id/clear": "dag_runs:edit",
  "PATCH /api/v1/dags/:dag_id/dagRuns/:dag_run_id/setNote": "dag_runs:edit",
  "GET /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances": "task_instances:read",
  "POST /api/v1/dags/~/dagRuns/~/taskInstances/list": "task_instances:read",
  "GET /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id": "task_instances:read",
  "GET /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/:map_index": "task_instances:read",
  "GET /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/listMapped": "task_instances:read",
  "GET /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/tries": "task_instances:read",
  "GET /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/reschedules": "task_instances:read",
  "GET /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/dependencies": "task_instances:read",
  "GET /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/:map_index/dependencies":
    "task_instances:read",
  "PATCH /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id": "task_instances:edit",
  "PATCH /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/:map_index": "task_instances:edit",
  "PATCH /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/setNote": "task_instances:edit",
  "PATCH /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/:map_index/setNote":
    "task_instances:edit",
  "GET /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/xcomEntries": "xcoms:read",
  "GET /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/xcomEntries/:xcom_key": "xcoms:read",
  "GET /api/v1/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/logs/:try_number": "task_logs:read",
  "POST /api/v1/dags/:dag_id/clearTaskInstances": "task_instances:edit",
  "POST /api/v1/dags/:dag_id/updateTaskInstancesState": "task_instances:edit",
  "GET /api/v1/ui/grid/:dag_id": "task_instances:read",
  "GET /api/v1/slaMisses": "dag_runs:read",
  "GET /api/v1/dags/:dag_id/dagRuns/:dag_run_id/deadlines": "dag_runs:read",
  "GET /api/v1/ui/calendar/:dag_id": "dag_runs:read",
  "GET /api/v1/ui/gantt/:dag_id/:dag_run_id": "task_instances:read",
  "GET /api/v1/ui/durations/:dag_id": "task_instances:read",
  "GET /api/v1/eventLogs": "audit_logs:read",
  "GET /api/v1/eventLogs/:event_log_id": "audit_logs:read",
  // Assets (decision 0031): read as DAGs are; an event created by hand starts consumer runs, an
  // operator's act (Airflow 2.9 gives can_create on Datasets to Op).
  "GET /api/v1/assets": "assets:read",
  "GET /api/v1/assets/:uri": "assets:read",
  "GET /api/v1/assets/events": "assets:read",
  "POST /api/v1/assets/events": "assets:create",
  "GET /api/v1/dags/:dag_id/dagRuns/:dag_run_id/upstreamAssetEvents": "dag_runs:read",
  "GET /api/v1/importErrors": "import_errors:read",
  "GET /api/v1/importErrors/:import_error_id": "import_errors:read",
  "GET /api/v1/pools": "pools:read",
  "GET /api/v1/pools/:pool_name": "pools:read",
  "POST /api/v1/pools": "pools:create",
  "PATCH /api/v1/pools/:pool_name": "pools:edit",
  "DELETE /api/v1/pools/:pool_name": "pools:delete",
  // The QueueExecutor's workers, from Redis (decision 0026): read as pools are, forgotten by Op.
  "GET /api/v1/workers": "workers:read",
  "GET /api/v1/workers/:worker_id": "workers:read",
  "DELETE /api/v1/workers/:worker_id": "workers:delete",
  "GET /api/v1/variables": "variables:read",
  "GET /api/v1/variables/:key": "variables:read",
  "POST /api/v1/variables": "variables:create",
  "PATCH /api/v1/variables/:key": "variables:edit",
  "DELETE /api/v1/variables/:key": "variables:delete",
  "GET /api/v1/connections": "connections:read",
  "GET /api/v1/connections/:connection_id": "connections:read",
  "POST /api/v1/connections": "connections:create",
  "PATCH /api/v1/connections/:connection_id": "connections:edit",
  "DELETE /api/v1/connections/:connection_id": "connections:delete",
  "GET /api/v1/config": "config:read",
  "GET /api/v1/config/section/:section/option/:option": "config:read",
  "GET /api/v1/auth/me": "my_profile:read",
  "POST /api/v1/auth/logout": "my_profile:edit",
  // One's own API tokens; ?username= for another's also needs users:edit (rest/tokens.ts).
  "GET /api/v1/auth/tokens": "my_profile:read",
  "POST /api/v1/auth/tokens": "my_profile:edit",
  "DELETE /api/v1/auth/tokens/:token_id": "my_profile:edit",
  "GET /api/v1/users": "users:read",
  "POST /api/v1/users": "users:create",
  "GET /api/v1/users/:username": "users:read",
  "PATCH /api/v1/users/:username": "users:edit",
  "DELETE /api/v1/users/:username": "users:delete",
  "GET /api/v1/roles": "roles:read",
  "POST /api/v1/roles": "roles:create",
  "GET /api/v1/roles/:role_name": "roles:read",
  "PATCH /api/v1/roles/:role_name": "roles:edit",
  "DELETE /api/v1/roles/:role_name": "roles:delete",
  "GET /api/v1/permissions": "roles:read",
  // Counts and durations by DAG and task id: no more than a Viewer reads, so the least role a
  // Prometheus scraper's user needs (decision 0018). Public with metrics.prometheus_public.
  "GET /metrics": "metrics:read",
  // Any CLI command, users included, runs through it: Admin only.
  "POST /api/v1/cli": "cli:execute",
};

const VIEWER: readonly Permission[] = [
  "dags:read",
  "dag_code:read",
  "dag_runs:read",
  "task_instances:read",
  "task_logs:read",
  "xcoms:read",
  "pools:read",
  "workers:read",
  "import_errors:read",
  "assets:read",
  "jobs:read",
  "audit_logs:read",
  "metrics:read",
  "my_profile:read",
  "my_profile:edit",
];
const USER: readonly Permission[] = [
  "dags:edit",
  "dags:delete",
  "dag_runs:create",
  "dag_runs:edit",
  "dag_runs:delete",
  "task_instances:create",
  "task_instances:edit",
  "task_instances:delete",
];
const OP: readonly Permission[] = [
  "config:read",
  "providers:read",
  "connections:read",
  "connections:create",
  "connections:edit",
  "connections:delete",
  "variables:read",
  "variables:create",
  "variables:edit",
  "variables:delete",
  "pools:create",
  "pools:edit",
  "pools:delete",
  "workers:delete",
  "xcoms:delete",
  "assets:create",
];
const ADMIN: readonly Permission[] = [
  "users:read",
  "users:create",
  "users:edit",
  "users:delete",
  "roles:read",
  "roles:create",
  "roles:edit",
  "roles:delete",
  "triggers:read",
  "cli:execute",
];

/** What each built-in role may do. A role not listed here (none exist yet) may do nothing. */
export const ROLE_PERMISSIONS: Readonly<Record<string, ReadonlySet<Permission>>> = {
  Viewer: new Set(VIEWER),
  User: new Set([...VIEWER, ...USER]),
  Op: new Set([...VIEWER, ...USER, ...OP]),
  Admin: new Set([...VIEWER, ...USER, ...OP, ...ADMIN]),
};

export const ROLE_NAMES = ["Admin", "Op", "User", "Viewer"] as const;

/** The union of the permissions of `roles`. */
export function permissionsOf(roles: readonly string[]): ReadonlySet<Permission> {
  const out = new Set<Permission>();
  for (const role of roles) for (const p of ROLE_PERMISSIONS[role] ?? []) out.add(p);
  return out;
}

/** The permission a route needs (a HEAD route is its GET's), or undefined when it is not in the table. */
export function routePermission(method: string, url: string): Permission | undefined {
  return ROUTE_PERMISSIONS[routeKey(method === "HEAD" ? "GET" : method, url)];
}

/**
 * FORBIDDEN (403) unless `roles` hold the permission the route needs. A route missing from the
 * table is refused to everyone, Admin included.
 */
export function authorize(
  principal: { username: string; roles: readonly string[]; permissions: ReadonlySet<Permission> },
  method: string,
  url: string,
): void {
  const needed = routePermission(method, url);
  if (needed === undefined) {
    throw new UpdraftError(
      "FORBIDDEN",
      `${method} ${url} is not in the API's permission table (api/auth/permissions.ts), so nobody may call it. This is a server defect: report it.`,
      { details: { route: routeKey(method, url) } },
    );
  }
  if (principal.permissions.has(needed)) return;
  const roles = principal.roles.length === 0 ? "no role" : `role(s) ${principal.roles.join(", ")}`;
  const holders = ROLE_NAMES.filter((r) => ROLE_PERMISSIONS[r]?.has(needed));
  throw new UpdraftError(
    "FORBIDDEN",
    `User "${principal.username}" with ${roles} lacks the permission ${needed} that ${method} ${url} needs. Roles that hold it: ${holders.join(", ")}; an Admin can grant one with \`updraft users add-role --username ${principal.username} --role <role>\`.`,
    { details: { permission: needed, roles: principal.roles } },
  );
}
