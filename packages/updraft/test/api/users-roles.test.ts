// Users and roles through /api/v1 as Airflow 2's FAB endpoints: create, read, PATCH with
// update_mask, delete; passwords never returned nor logged; a new password or disabling ends the
// user's sessions; the last active Admin cannot be deleted, disabled or demoted; built-in roles
// cannot be changed and custom roles are refused; only Admin may do any of it.
import { afterAll, beforeAll, expect, it } from "vitest";
import { createUser, removeUser, updateUser } from "../../src/services/index.js";
import { withTestDatabases } from "../db-testing.js";
import { API_TOKEN, seedUserWithToken, startTestServer, type TestServer } from "./helpers.js";

const admin = { authorization: `Bearer ${API_TOKEN}` };
const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`,
});

withTestDatabases("users and roles API", (getDb) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer(getDb());
    await seedUserWithToken(getDb(), "ur-op", "Op", "token-ur-op");
  });
  afterAll(async () => {
    await t.server.close();
  });
  const call = (
    method: "GET" | "POST" | "PATCH" | "DELETE",
    url: string,
    payload?: unknown,
    headers: Record<string, string> = admin,
  ) =>
    t.server.app.inject({
      method,
      url,
      headers,
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });
  const events = async (event: string) =>
    getDb()
      .db.selectFrom("log")
      .select(["owner", "extra"])
      .where("event", "=", event)
      .orderBy("id")
      .execute();
  const login = async (username: string, password: string) => {
    const res = await call("POST", "/api/v1/auth/login", { username, password }, {});
    expect(res.statusCode).toBe(200);
    const cookies = [res.headers["set-cookie"] ?? []].flat().map((c) => c.split(";")[0]);
    return { cookie: cookies.join("; ") };
  };

  it("creates a user, returns Airflow's shape without the password, and logs who did it", async () => {
    const res = await call("POST", "/api/v1/users", {
      username: "carol",
      email: "carol@example.com",
      password: "carol-secret-1",
      first_name: "Carol",
      last_name: "Doe",
      roles: [{ name: "User" }],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      username: "carol",
      email: "carol@example.com",
      first_name: "Carol",
      last_name: "Doe",
      active: true,
      roles: [{ name: "User" }],
      last_login: null,
    });
    expect(res.body).not.toContain("password");
    expect(res.body).not.toContain("carol-secret-1");
    const got = await call("GET", "/api/v1/users/carol");
    expect(got.json()).toEqual(res.json());
    const list = await call("GET", "/api/v1/users?order_by=-username&limit=1");
    expect(list.json().total_entries).toBeGreaterThanOrEqual(3);
    expect(list.json().users).toHaveLength(1);
    expect(list.body).not.toMatch(/password|argon2/);
    expect((await basic_ok("carol", "carol-secret-1")).statusCode).toBe(200);
    const logged = await events("user.create");
    expect(logged.at(-1)).toMatchObject({ owner: "test-admin" });
    expect(logged.at(-1)?.extra).toContain('"carol"');
    expect(logged.at(-1)?.extra).not.toContain("carol-secret-1");
  });
  const basic_ok = (u: string, p: string) => call("GET", "/api/v1/auth/me", undefined, basic(u, p));

  it("refuses a duplicate user (409), an unknown role (404), changeme and a short password (422)", async () => {
    const base = { username: "dave", email: "dave@example.com", password: "dave-secret-1" };
    expect((await call("POST", "/api/v1/users", { ...base, username: "carol" })).statusCode).toBe(409);
    expect((await call("POST", "/api/v1/users", { ...base, email: "carol@example.com" })).statusCode).toBe(
      409,
    );
    const role = await call("POST", "/api/v1/users", { ...base, roles: [{ name: "Wizard" }] });
    expect(role.statusCode).toBe(404);
    expect(role.json().code).toBe("ROLE_NOT_FOUND");
    const tutorial = await call("POST", "/api/v1/users", { ...base, password: "changeme" });
    expect(tutorial.statusCode).toBe(422);
    expect(tutorial.json().code).toBe("PASSWORD_WEAK");
    expect(tutorial.body).not.toContain("dave-secret-1");
    expect((await call("POST", "/api/v1/users", { ...base, password: "short" })).statusCode).toBe(422);
    expect((await call("GET", "/api/v1/users/dave")).statusCode).toBe(404);
    // Without roles, Airflow's registration role: Viewer.
    const viewer = await call("POST", "/api/v1/users", base);
    expect(viewer.json().roles).toEqual([{ name: "Viewer" }]);
  });

  it("PATCHes only the update_mask's fields, and refuses unknown or absent ones", async () => {
    const res = await call("PATCH", "/api/v1/users/dave?update_mask=first_name,roles", {
      first_name: "David",
      last_name: "ignored",
      roles: [{ name: "Op" }],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ first_name: "David", last_name: "", roles: [{ name: "Op" }] });
    const unknown = await call("PATCH", "/api/v1/users/dave?update_mask=shoe_size", { first_name: "x" });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().detail).toContain("shoe_size");
    const absent = await call("PATCH", "/api/v1/users/dave?update_mask=email", { first_name: "x" });
    expect(absent.statusCode).toBe(400);
    expect((await call("PATCH", "/api/v1/users/nobody", { first_name: "x" })).statusCode).toBe(404);
    const taken = await call("PATCH", "/api/v1/users/dave?update_mask=email", {
      email: "carol@example.com",
    });
    expect(taken.statusCode).toBe(409);
    const strict = await call("PATCH", "/api/v1/users/dave", { password_hash: "x" });
    expect(strict.statusCode).toBe(422);
  });

  it("re-hashes a password set by PATCH and ends that user's sessions, never logging it", async () => {
    const { cookie } = await login("carol", "carol-secret-1");
    expect((await call("GET", "/api/v1/auth/me", undefined, { cookie })).statusCode).toBe(200);
    const weak = await call("PATCH", "/api/v1/users/carol?update_mask=password", { password: "changeme" });
    expect(weak.statusCode).toBe(422);
    expect((await call("GET", "/api/v1/auth/me", undefined, { cookie })).statusCode).toBe(200);
    const res = await call("PATCH", "/api/v1/users/carol?update_mask=password", {
      password: "carol-new-secret-2",
    });
    expect(res.statusCode).toBe(200);
    expect(res.body).not.toContain("carol-new-secret-2");
    expect((await call("GET", "/api/v1/auth/me", undefined, { cookie })).statusCode).toBe(401);
    expect((await basic_ok("carol", "carol-secret-1")).statusCode).toBe(401);
    expect((await basic_ok("carol", "carol-new-secret-2")).statusCode).toBe(200);
    const row = await getDb()
      .db.selectFrom("ab_user")
      .select("password")
      .where("username", "=", "carol")
      .executeTakeFirstOrThrow();
    expect(row.password).toMatch(/^\$argon2id\$/);
    const logged = await events("user.update");
    expect(JSON.parse(logged.at(-1)?.extra ?? "{}")).toEqual({ username: "carol", fields: ["password"] });
    expect(JSON.stringify(logged)).not.toMatch(/carol-new-secret-2|changeme/);
  });

  it("disabling a user ends their sessions and refuses their credentials", async () => {
    const { cookie } = await login("carol", "carol-new-secret-2");
    const res = await call("PATCH", "/api/v1/users/carol?update_mask=active", { active: false });
    expect(res.statusCode).toBe(200);
    expect(res.json().active).toBe(false);
    expect((await call("GET", "/api/v1/auth/me", undefined, { cookie })).statusCode).toBe(401);
    expect((await basic_ok("carol", "carol-new-secret-2")).statusCode).toBe(401);
    await call("PATCH", "/api/v1/users/carol?update_mask=active", { active: true });
    expect((await basic_ok("carol", "carol-new-secret-2")).statusCode).toBe(200);
  });

  it("never deletes, disables or demotes the last active Admin (409), but may once another exists", async () => {
    const admins = (await call("GET", "/api/v1/users?limit=100"))
      .json()
      .users.filter(
        (u: { roles: { name: string }[]; active: boolean }) =>
          u.active && u.roles.some((r) => r.name === "Admin"),
      );
    expect(admins.map((u: { username: string }) => u.username)).toEqual(["test-admin"]);
    const del = await call("DELETE", "/api/v1/users/test-admin");
    expect(del.statusCode).toBe(409);
    expect(del.json().code).toBe("USER_LAST_ADMIN");
    const off = await call("PATCH", "/api/v1/users/test-admin?update_mask=active", { active: false });
    expect(off.statusCode).toBe(409);
    const demote = await call("PATCH", "/api/v1/users/test-admin?update_mask=roles", {
      roles: [{ name: "Op" }],
    });
    expect(demote.statusCode).toBe(409);
    expect((await call("GET", "/api/v1/users/test-admin")).json()).toMatchObject({
      active: true,
      roles: [{ name: "Admin" }],
    });
    // With a second active Admin, the other one may go.
    await call("POST", "/api/v1/users", {
      username: "erin",
      email: "erin@example.com",
      password: "erin-secret-1",
      roles: [{ name: "Admin" }],
    });
    const erin = basic("erin", "erin-secret-1");
    expect((await call("DELETE", "/api/v1/users/dave", undefined, erin)).statusCode).toBe(204);
    expect((await call("GET", "/api/v1/users/dave")).statusCode).toBe(404);
    expect((await events("user.delete")).at(-1)).toMatchObject({ owner: "erin" });
    expect((await call("DELETE", "/api/v1/users/erin")).statusCode).toBe(204);
    expect((await call("DELETE", "/api/v1/users/test-admin")).statusCode).toBe(409);
  });

  it("lists the built-in roles with their permissions, and refuses custom or changed roles", async () => {
    const roles = await call("GET", "/api/v1/roles");
    expect(roles.statusCode).toBe(200);
    expect(roles.json().roles.map((r: { name: string }) => r.name)).toEqual([
      "Admin",
      "Op",
      "User",
      "Viewer",
    ]);
    const op = await call("GET", "/api/v1/roles/Op");
    expect(op.json().actions).toContainEqual({ action: { name: "can_read" }, resource: { name: "config" } });
    expect(op.json().actions).not.toContainEqual({
      action: { name: "can_read" },
      resource: { name: "users" },
    });
    expect((await call("GET", "/api/v1/roles/Wizard")).statusCode).toBe(404);
    const custom = await call("POST", "/api/v1/roles", { name: "Wizard", actions: [] });
    expect(custom.statusCode).toBe(400);
    expect(custom.json().code).toBe("ROLE_CUSTOM_UNSUPPORTED");
    expect((await call("POST", "/api/v1/roles", { name: "Admin", actions: [] })).statusCode).toBe(409);
    const patch = await call("PATCH", "/api/v1/roles/Viewer", {
      actions: [{ action: { name: "can_read" }, resource: { name: "variables" } }],
    });
    expect(patch.statusCode).toBe(409);
    expect(patch.json().code).toBe("ROLE_BUILT_IN");
    expect((await call("DELETE", "/api/v1/roles/Viewer")).statusCode).toBe(409);
    expect((await call("DELETE", "/api/v1/roles/Wizard")).statusCode).toBe(404);
    expect((await call("GET", "/api/v1/roles")).json().total_entries).toBe(4);
    const perms = await call("GET", "/api/v1/permissions");
    expect(perms.json().actions).toContainEqual({ name: "can_read" });
  });

  it("refuses every users, roles and permissions route to an Op (403)", async () => {
    const op = { authorization: "Bearer token-ur-op" };
    for (const [method, url] of [
      ["GET", "/api/v1/users"],
      ["POST", "/api/v1/users"],
      ["PATCH", "/api/v1/users/carol"],
      ["DELETE", "/api/v1/users/carol"],
      ["GET", "/api/v1/roles/Op"],
      ["POST", "/api/v1/roles"],
      ["GET", "/api/v1/permissions"],
    ] as const) {
      const res = await call(method, url, method === "POST" || method === "PATCH" ? {} : undefined, op);
      expect(res.statusCode, `${method} ${url}`).toBe(403);
    }
    expect((await call("GET", "/api/v1/users/carol")).statusCode).toBe(200);
  });
  // Last: it demotes test-admin. Two active Admins removed at the same time: the lock on the
  // Admin role makes the second change see the first one's, so it must fail.
  it("refuses disabling an Admin while another transaction removes the other last Admin", async () => {
    const db = getDb().db;
    for (const name of ["race-a", "race-b"]) {
      await createUser(db, {
        username: name,
        email: `${name}@example.com`,
        password: `${name}-secret-1`,
        roles: ["Admin"],
      });
    }
    await updateUser(db, "test-admin", { roles: ["Op"] });
    // A removes race-a and has not committed yet when B tries to disable race-b: B must wait for
    // A (the lock), then see that race-b is the last active Admin. Without the lock, B would
    // count race-a as still active and succeed while A's transaction is open.
    let b: Promise<PromiseSettledResult<string>[]> | undefined;
    await db.transaction().execute(async (tx) => {
      await removeUser(tx, "race-a");
      b = Promise.allSettled([updateUser(db, "race-b", { active: false })]);
      await new Promise((resolve) => setTimeout(resolve, 300));
    });
    const [outcome] = await b!;
    expect(outcome?.status).toBe("rejected");
    expect((outcome as PromiseRejectedResult).reason).toMatchObject({ code: "USER_LAST_ADMIN" });
    const admins = await db
      .selectFrom("ab_user as u")
      .innerJoin("ab_user_role as ur", "ur.user_id", "u.id")
      .innerJoin("ab_role as r", "r.id", "ur.role_id")
      .select("u.username")
      .where("r.name", "=", "Admin")
      .where("u.active", "=", true)
      .execute();
    expect(admins).toHaveLength(1);
  });
});
