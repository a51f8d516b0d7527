// Users, as Airflow 2's FAB user endpoints (GET/POST /users, GET/PATCH/DELETE /users/{username}).
// Passwords are accepted (write-only) and never returned nor written to the event log; the rules
// (last Admin, sessions ended by a new password or disabling) live in services/manage-users.ts.
import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import { addAuditLog, listUsers, type Database, type UserWithRoles } from "../../db/index.js";
import { createUser, removeUser, requireUser, updateUser, type UserChanges } from "../../services/index.js";
import { Id, Page, Text, actor, collection, orderBy, route } from "./common.js";

const UserPath = z.object({ username: Id });
const RoleRef = z.object({ name: Id }).strict();
const Name = Text.max(250);
const Password = z.string().max(1000);

const CreateBody = z
  .object({
    username: Id,
    email: Id,
    password: Password,
    first_name: Name.optional(),
    last_name: Name.optional(),
    roles: z.array(RoleRef).max(20).optional(),
  })
  .strict()
  .meta({ id: "UserCreate" });

const PATCHABLE = ["username", "email", "first_name", "last_name", "roles", "password", "active"] as const;
const PatchBody = z
  .object({
    username: Id.optional(),
    email: Id.optional(),
    password: Password.optional(),
    first_name: Name.optional(),
    last_name: Name.optional(),
    roles: z.array(RoleRef).max(20).optional(),
    active: z.boolean().optional(),
  })
  .strict()
  .meta({ id: "UserPatch" });
const PatchQuery = z.object({ update_mask: z.string().max(1000).optional() });

const User = z
  .object({
    username: z.string(),
    email: z.string(),
    first_name: z.string(),
    last_name: z.string(),
    active: z.boolean(),
    roles: z.array(z.object({ name: z.string() })),
    created_on: z.string(),
    changed_on: z.string(),
    last_login: z.string().nullable(),
  })
  .meta({ id: "User" });
const UserCollection = collection("users", User, "UserCollection");

const ORDER = {
  username: "username",
  email: "email",
  first_name: "first_name",
  last_name: "last_name",
  active: "active",
  created_on: "created_on",
  changed_on: "changed_on",
  last_login: "last_login",
} as const;
const ListQuery = Page.extend({ order_by: orderBy(ORDER, "username") });

function userJson(u: UserWithRoles): z.infer<typeof User> {
  return {
    username: u.username,
    email: u.email,
    first_name: u.first_name,
    last_name: u.last_name,
    active: u.active,
    roles: u.roles.map((name) => ({ name })),
    created_on: u.created_on.toISOString(),
    changed_on: u.changed_on.toISOString(),
    last_login: u.last_login?.toISOString() ?? null,
  };
}

/** The fields `update_mask` names (comma-separated, as Airflow's); all sent fields without one. */
function maskedFields(mask: string | undefined, body: z.infer<typeof PatchBody>): Set<string> {
  if (mask === undefined) return new Set(Object.keys(body));
  const fields = mask
    .split(",")
    .map((f) => f.trim())
    .filter((f) => f !== "");
  const unknown = fields.filter((f) => !(PATCHABLE as readonly string[]).includes(f));
  if (unknown.length > 0) {
    throw new UpdraftError(
      "PARAMETER_INVALID",
      `Unknown update_mask field(s): ${unknown.join(", ")}. A user's fields are: ${PATCHABLE.join(", ")}.`,
      { details: { update_mask: unknown } },
    );
  }
  const missing = fields.filter((f) => !(f in body));
  if (missing.length > 0) {
    throw new UpdraftError(
      "PARAMETER_INVALID",
      `update_mask names ${missing.join(", ")} but the body has no value for it: send the new value.`,
      { details: { update_mask: missing } },
    );
  }
  return new Set(fields);
}

export function userRoutes(database: Database) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["User"];

    const list = { querystring: ListQuery, response: { 200: UserCollection } };
    app.get("/users", route("get_users", "List users", tags, list), async (request) => {
      const q = request.query;
      const users = await listUsers(db);
      const { column, direction } = {
        column: q.order_by.replace(/^-/, "") as keyof typeof ORDER,
        direction: q.order_by.startsWith("-") ? -1 : 1,
      };
      const key = (u: UserWithRoles): string | number | boolean => {
        const v = u[ORDER[column]];
        return v instanceof Date ? v.getTime() : (v ?? -Infinity);
      };
      users.sort((a, b) => {
        const x = key(a);
        const y = key(b);
        return (x < y ? -1 : x > y ? 1 : a.username < b.username ? -1 : 1) * direction;
      });
      return {
        users: users.slice(q.offset, q.offset + q.limit).map(userJson),
        total_entries: users.length,
      };
    });

    const one = { params: UserPath, response: { 200: User } };
    app.get("/users/:username", route("get_user", "Get a user", tags, one), async (request) =>
      userJson(await requireUser(db, request.params.username)),
    );

    const create = { body: CreateBody, response: { 200: User } };
    app.post("/users", route("post_user", "Create a user", tags, create), async (request) => {
      const b = request.body;
      const roles = (b.roles ?? []).map((r) => r.name);
      await createUser(db, {
        username: b.username,
        email: b.email,
        password: b.password,
        // Airflow gives a user created without roles the registration role; ours is Viewer.
        roles: roles.length === 0 ? ["Viewer"] : roles,
        ...(b.first_name === undefined ? {} : { firstName: b.first_name }),
        ...(b.last_name === undefined ? {} : { lastName: b.last_name }),
      });
      const user = await requireUser(db, b.username);
      await addAuditLog(db, {
        event: "user.create",
        owner: actor(request),
        extra: JSON.stringify({ username: user.username, roles: user.roles }),
      });
      return userJson(user);
    });

    const patch = { params: UserPath, querystring: PatchQuery, body: PatchBody, response: { 200: User } };
    const patchRoute = route("patch_user", "Update a user", tags, patch);
    app.patch("/users/:username", patchRoute, async (request) => {
      const { username } = request.params;
      const b = request.body;
      const fields = maskedFields(request.query.update_mask, b);
      const changes: UserChanges = {};
      const has = (k: string): boolean => fields.has(k);
      if (has("username") && b.username !== undefined) changes.username = b.username;
      if (has("email") && b.email !== undefined) changes.email = b.email;
      if (has("first_name") && b.first_name !== undefined) changes.firstName = b.first_name;
      if (has("last_name") && b.last_name !== undefined) changes.lastName = b.last_name;
      if (has("roles") && b.roles !== undefined) changes.roles = b.roles.map((r) => r.name);
      if (has("active") && b.active !== undefined) changes.active = b.active;
      if (has("password") && b.password !== undefined) changes.password = b.password;
      const name = await updateUser(db, username, changes);
      await addAuditLog(db, {
        event: "user.update",
        owner: actor(request),
        // The names of the fields changed, never their values (a password among them).
        extra: JSON.stringify({ username, fields: [...fields].sort() }),
      });
      return userJson(await requireUser(db, name));
    });

    const del = { params: UserPath, response: { 204: z.null() } };
    const delRoute = route("delete_user", "Delete a user", tags, del);
    app.delete("/users/:username", delRoute, async (request, reply) => {
      const { username } = request.params;
      await removeUser(db, username);
      await addAuditLog(db, {
        event: "user.delete",
        owner: actor(request),
        extra: JSON.stringify({ username }),
      });
      return reply.code(204).send();
    });
  };
}
