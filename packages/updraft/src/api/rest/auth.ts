// Logging in and out with a session cookie, who am I, and the Admin's lists of users and roles.
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import {
  deleteSession,
  getUserById,
  listRoles,
  listUsers,
  setLastLogin,
  type Database,
} from "../../db/index.js";
import { startSession } from "../../services/index.js";
import { checkPassword } from "../auth/authenticate.js";
import { cookie, CSRF_COOKIE, SESSION_COOKIE } from "../auth/cookies.js";
import type { LoginLimiter } from "../auth/login-limiter.js";
import { ROLE_PERMISSIONS } from "../auth/permissions.js";
import { parseBody } from "../validate.js";

const LoginBody = z.object({ username: z.string().min(1).max(250), password: z.string().max(1000) });

export interface AuthRoutesOptions {
  database: Database;
  limiter: LoginLimiter;
  sessionLifetimeS: number;
}

function principalOf(request: FastifyRequest) {
  if (request.principal === null) throw new UpdraftError("UNAUTHORIZED", "This route needs credentials.");
  return request.principal;
}

/** Secure cookies when the client reached us over https (X-Forwarded-Proto counts with api.trust_proxy). */
const secure = (request: FastifyRequest): boolean => request.protocol === "https";

export function authRoutes(o: AuthRoutesOptions) {
  const db = o.database.db;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.post("/auth/login", async (request, reply: FastifyReply) => {
      const body = parseBody(LoginBody, request.body);
      const user = await checkPassword(
        o.database,
        o.limiter,
        { username: body.username, password: body.password, address: request.ip },
        reply,
      );
      const session = await startSession(db, user.id, o.sessionLifetimeS);
      await setLastLogin(db, user.id);
      const flags = { secure: secure(request), maxAgeS: o.sessionLifetimeS };
      reply.header("set-cookie", [
        cookie(SESSION_COOKIE, session.sessionToken, { ...flags, httpOnly: true }),
        cookie(CSRF_COOKIE, session.csrfToken, { ...flags, httpOnly: false }),
      ]);
      return {
        username: user.username,
        roles: user.roles,
        csrf_token: session.csrfToken,
        expires_at: session.expiresAt.toISOString(),
      };
    });

    app.post("/auth/logout", async (request, reply) => {
      const p = principalOf(request);
      if (p.sessionId !== null) await deleteSession(db, p.sessionId);
      const flags = { secure: secure(request), maxAgeS: 0 };
      reply.header("set-cookie", [
        cookie(SESSION_COOKIE, "", { ...flags, httpOnly: true }),
        cookie(CSRF_COOKIE, "", { ...flags, httpOnly: false }),
      ]);
      return reply.code(204).send();
    });

    app.get("/auth/me", async (request) => {
      const p = principalOf(request);
      const user = await getUserById(db, p.userId);
      return {
        username: p.username,
        email: user?.email ?? null,
        first_name: user?.first_name ?? null,
        last_name: user?.last_name ?? null,
        roles: p.roles,
        permissions: [...p.permissions].sort(),
        authenticated_by: p.via,
      };
    });

    app.get("/users", async () => {
      const users = await listUsers(db);
      return {
        users: users.map((u) => ({
          username: u.username,
          email: u.email,
          first_name: u.first_name,
          last_name: u.last_name,
          active: u.active,
          roles: u.roles,
          created_on: u.created_on.toISOString(),
          last_login: u.last_login?.toISOString() ?? null,
        })),
        total_entries: users.length,
      };
    });

    app.get("/roles", async () => {
      const roles = await listRoles(db);
      return {
        roles: roles.map((name) => ({ name, permissions: [...(ROLE_PERMISSIONS[name] ?? [])].sort() })),
        total_entries: roles.length,
      };
    });
  };
}
