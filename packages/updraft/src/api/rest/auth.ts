// Logging in and out with a session cookie, and who am I (users and roles: users.ts, roles.ts).
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import { deleteSession, getUserById, setLastLogin, type Database } from "../../db/index.js";
import { startSession } from "../../services/index.js";
import { checkPassword } from "../auth/authenticate.js";
import { cookie, CSRF_COOKIE, SESSION_COOKIE } from "../auth/cookies.js";
import type { LoginLimiter } from "../auth/login-limiter.js";
import { route } from "./common.js";

const LoginBody = z.object({ username: z.string().min(1).max(250), password: z.string().max(1000) });
const Login = z
  .object({
    username: z.string(),
    roles: z.array(z.string()),
    csrf_token: z.string(),
    expires_at: z.string(),
  })
  .meta({ id: "Login" });
const Me = z
  .object({
    username: z.string(),
    email: z.string().nullable(),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    roles: z.array(z.string()),
    permissions: z.array(z.string()),
    authenticated_by: z.string(),
  })
  .meta({ id: "CurrentUser" });
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
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["Auth"];
    const login = { body: LoginBody, response: { 200: Login } };
    app.post(
      "/auth/login",
      route("login", "Log in with a session cookie", tags, login),
      async (request, reply) => {
        const body = request.body;
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
      },
    );

    const logout = { response: { 204: z.null() } };
    app.post("/auth/logout", route("logout", "End the session", tags, logout), async (request, reply) => {
      const p = principalOf(request);
      if (p.sessionId !== null) await deleteSession(db, p.sessionId);
      const flags = { secure: secure(request), maxAgeS: 0 };
      reply.header("set-cookie", [
        cookie(SESSION_COOKIE, "", { ...flags, httpOnly: true }),
        cookie(CSRF_COOKIE, "", { ...flags, httpOnly: false }),
      ]);
      return reply.code(204).send(null);
    });

    const me = { response: { 200: Me } };
    app.get("/auth/me", route("get_current_user", "Who am I", tags, me), async (request) => {
      const p = principalOf(request);
      const user = await getUserById(db, p.userId);
      return {
        username: p.username,
        email: user?.email ?? null,
        first_name: user?.first_name ?? null,
        last_name: user?.last_name ?? null,
        roles: [...p.roles],
        permissions: [...p.permissions].sort(),
        authenticated_by: p.via,
      };
    });
  };
}
