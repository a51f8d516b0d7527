// Roles and permissions, as Airflow 2's FAB role endpoints. Only the built-in roles exist (Admin,
// Op, User, Viewer; what each may do is code, api/auth/permissions.ts): creating a role, or
// changing or deleting a built-in one, is refused with a problem that says so (see decision 0014).
// A role's permission `resource:action` is shown as Airflow's `{action: {name: "can_<action>"},
// resource: {name}}`.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import { listRoles, type Database } from "../../db/index.js";
import { ROLE_NAMES, ROLE_PERMISSIONS, type Permission } from "../auth/permissions.js";
import { Id, Page, collection, orderBy, route } from "./common.js";

const RolePath = z.object({ role_name: Id });
const ActionResource = z
  .object({ action: z.object({ name: z.string() }), resource: z.object({ name: z.string() }) })
  .meta({ id: "ActionResource" });
const Role = z.object({ name: z.string(), actions: z.array(ActionResource) }).meta({ id: "Role" });
const RoleCollection = collection("roles", Role, "RoleCollection");
const Action = z.object({ name: z.string() }).meta({ id: "Action" });
const ActionCollection = collection("actions", Action, "ActionCollection");
const RoleBody = z
  .object({
    name: Id.optional(),
    actions: z
      .array(z.object({ action: z.object({ name: Id }), resource: z.object({ name: Id }) }))
      .max(1000)
      .optional(),
  })
  .strict()
  .meta({ id: "RoleBody" });
const PatchQuery = z.object({ update_mask: z.string().max(1000).optional() });
const ListQuery = Page.extend({ order_by: orderBy({ name: "name" }, "name") });

function actionsOf(role: string): z.infer<typeof ActionResource>[] {
  return [...(ROLE_PERMISSIONS[role] ?? [])].sort().map((p: Permission) => {
    const [resource = "", action = ""] = p.split(":");
    return { action: { name: `can_${action}` }, resource: { name: resource } };
  });
}

const roleJson = (name: string) => ({ name, actions: actionsOf(name) });

function roleNotFound(name: string, roles: readonly string[]): UpdraftError {
  return new UpdraftError(
    "ROLE_NOT_FOUND",
    `There is no role "${name}". The roles are: ${roles.join(", ")}.`,
    {
      details: { role: name, roles },
    },
  );
}

function builtIn(name: string, what: string): UpdraftError {
  return new UpdraftError(
    "ROLE_BUILT_IN",
    `"${name}" is a built-in role and cannot be ${what}: what Admin, Op, User and Viewer may do is fixed. Give users another of these roles with PATCH /api/v1/users/{username}?update_mask=roles.`,
    { details: { role: name } },
  );
}

export function roleRoutes(database: Database) {
  const db = database.db;
  async function requireRole(name: string): Promise<string> {
    const roles = await listRoles(db);
    if (!roles.includes(name)) throw roleNotFound(name, roles);
    return name;
  }
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["Role"];

    const list = { querystring: ListQuery, response: { 200: RoleCollection } };
    app.get("/roles", route("get_roles", "List roles", tags, list), async (request) => {
      const q = request.query;
      const roles = await listRoles(db);
      if (q.order_by === "-name") roles.reverse();
      return { roles: roles.slice(q.offset, q.offset + q.limit).map(roleJson), total_entries: roles.length };
    });

    const one = { params: RolePath, response: { 200: Role } };
    app.get("/roles/:role_name", route("get_role", "Get a role", tags, one), async (request) =>
      roleJson(await requireRole(request.params.role_name)),
    );

    const create = { body: RoleBody, response: { 200: Role } };
    app.post("/roles", route("post_role", "Create a role", tags, create), async (request) => {
      const name = request.body.name;
      if (name === undefined) throw new UpdraftError("PARAMETER_INVALID", "A role needs a name.");
      if ((await listRoles(db)).includes(name)) {
        throw new UpdraftError("ROLE_EXISTS", `Role "${name}" exists already (it is a built-in role).`, {
          details: { role: name },
        });
      }
      throw new UpdraftError(
        "ROLE_CUSTOM_UNSUPPORTED",
        `Updraft has only the built-in roles ${ROLE_NAMES.join(", ")}; custom roles such as "${name}" are not supported. Give users one of these roles instead.`,
        { details: { role: name } },
      );
    });

    const patch = { params: RolePath, querystring: PatchQuery, body: RoleBody, response: { 200: Role } };
    const patchRoute = route("patch_role", "Update a role", tags, patch);
    app.patch("/roles/:role_name", patchRoute, async (request) => {
      throw builtIn(await requireRole(request.params.role_name), "changed");
    });

    const del = { params: RolePath, response: { 204: z.null() } };
    const delRoute = route("delete_role", "Delete a role", tags, del);
    app.delete("/roles/:role_name", delRoute, async (request) => {
      throw builtIn(await requireRole(request.params.role_name), "deleted");
    });

    const perms = { querystring: Page, response: { 200: ActionCollection } };
    app.get("/permissions", route("get_permissions", "List permissions", tags, perms), async (request) => {
      const names = new Set<string>();
      for (const role of ROLE_NAMES) for (const a of actionsOf(role)) names.add(a.action.name);
      const actions = [...names].sort().map((name) => ({ name }));
      const q = request.query;
      return { actions: actions.slice(q.offset, q.offset + q.limit), total_entries: actions.length };
    });
  };
}
