// Who is calling: `Authorization: Basic` (user name and password), `Authorization: Bearer` (an
// API token), or the session cookie of POST /api/v1/auth/login. Each way ends in the same
// principal: the user, the roles, and what those roles may do. A disabled user, a revoked or
// expired token and an ended session are all just "no credentials" (401).
import { timingSafeEqual } from "node:crypto";
import type { FastifyReply, FastifyRequest } from "fastify";
import { UpdraftError } from "../../common/errors.js";
import { getUser, userByApiToken, userBySession, type Database, type UserWithRoles } from "../../db/index.js";
import { secretHash, TUTORIAL_PASSWORD, verifyNothing, verifyPassword } from "../../services/index.js";
import { CSRF_HEADER, readCookie, SESSION_COOKIE } from "./cookies.js";
import type { LoginLimiter } from "./login-limiter.js";
import { permissionsOf, type Permission } from "./permissions.js";

export interface Principal {
  userId: number;
  username: string;
  roles: readonly string[];
  permissions: ReadonlySet<Permission>;
  /** How the request proved who it is. */
  via: "basic" | "token" | "session";
  /** The session's id (hash of its cookie) when `via` is "session". */
  sessionId: string | null;
  csrfHash: string | null;
}

const HOW =
  'Send `Authorization: Basic <base64 of user:password>`, `Authorization: Bearer <API token>` (an Admin creates one with `updraft users tokens create --username <user>`), or the session cookie that `POST /api/v1/auth/login` with {"username", "password"} sets.';

/** The header the web UI's requests carry (packages/ui/src/lib/api.ts). */
export const UI_REQUEST_HEADER = "x-requested-with";

export function unauthorized(reply: FastifyReply | null, why: string): UpdraftError {
  // RFC 9110: a 401 names the schemes it accepts. But a browser answers a Basic challenge to a
  // page's own fetch with its native login dialog (a headless one waits on it forever), so the
  // UI's requests are told Bearer only and the page shows its own login form.
  const fromUi = reply?.request.headers[UI_REQUEST_HEADER] === "XMLHttpRequest";
  reply?.header(
    "www-authenticate",
    fromUi ? 'Bearer realm="Updraft"' : 'Basic realm="Updraft", Bearer realm="Updraft"',
  );
  return new UpdraftError("UNAUTHORIZED", `${why} ${HOW}`);
}

function principal(
  user: UserWithRoles,
  via: Principal["via"],
  session?: { id: string; csrfHash: string },
): Principal {
  return {
    userId: user.id,
    username: user.username,
    roles: user.roles,
    permissions: permissionsOf(user.roles),
    via,
    sessionId: session?.id ?? null,
    csrfHash: session?.csrfHash ?? null,
  };
}

/**
 * The user whose password this is, or UNAUTHORIZED (one message for an unknown user, a wrong
 * password and a disabled user, so that none can be told apart), LOGIN_RATE_LIMITED after too
 * many failures. The tutorial's `changeme` is refused even when it is the stored password.
 */
export async function checkPassword(
  database: Database,
  limiter: LoginLimiter,
  credentials: { username: string; password: string; address: string },
  reply: FastifyReply | null,
): Promise<UserWithRoles> {
  const { username, password, address } = credentials;
  limiter.check(username, address);
  if (password.toLowerCase() === TUTORIAL_PASSWORD) {
    throw unauthorized(
      reply,
      `The password "${TUTORIAL_PASSWORD}" is the tutorial's example and is refused. An Admin sets another with \`updraft users reset-password --username ${username} --password <new>\`.`,
    );
  }
  const user = await getUser(database.db, username);
  const ok =
    user === undefined ? await verifyNothing(password) : await verifyPassword(user.password, password);
  if (user === undefined || !ok || !user.active) {
    limiter.fail(username, address);
    throw unauthorized(reply, "The user name or password is wrong, or the user is disabled.");
  }
  limiter.succeed(username);
  return user;
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  return x.length === y.length && timingSafeEqual(x, y);
}

/** 403 unless a cookie-authenticated request that changes state carries the session's CSRF token. */
export function checkCsrf(request: FastifyRequest, p: Principal): void {
  if (p.via !== "session" || p.csrfHash === null) return;
  if (request.method === "GET" || request.method === "HEAD" || request.method === "OPTIONS") return;
  const given = request.headers[CSRF_HEADER];
  if (typeof given !== "string" || given === "" || !sameHash(secretHash(given), p.csrfHash)) {
    throw new UpdraftError(
      "CSRF_TOKEN_INVALID",
      "A request authenticated by the session cookie that changes something must send the session's CSRF token in the X-CSRF-Token header (the csrf_token of the login answer, also in the updraft_csrf cookie).",
    );
  }
}

/** The authenticator of the access hook. */
export function authenticator(database: Database, limiter: LoginLimiter) {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<Principal> {
    const header = request.headers.authorization;
    if (header !== undefined) {
      const space = header.indexOf(" ");
      const scheme = (space < 0 ? header : header.slice(0, space)).toLowerCase();
      const value = space < 0 ? "" : header.slice(space + 1).trim();
      if (scheme === "basic") {
        const decoded = Buffer.from(value, "base64").toString("utf8");
        const colon = decoded.indexOf(":");
        if (colon < 0) throw unauthorized(reply, "The Basic credentials are not base64 of user:password.");
        const user = await checkPassword(
          database,
          limiter,
          { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), address: request.ip },
          reply,
        );
        return principal(user, "basic");
      }
      if (scheme === "bearer") {
        const user = value === "" ? undefined : await userByApiToken(database.db, secretHash(value));
        if (user === undefined)
          throw unauthorized(reply, "The API token is unknown, revoked or expired, or its user is disabled.");
        return principal(user, "token");
      }
      throw unauthorized(reply, `The authorization scheme "${scheme}" is not one Updraft accepts.`);
    }
    const cookie = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (cookie !== undefined && cookie !== "") {
      const id = secretHash(cookie);
      const found = await userBySession(database.db, id);
      if (found === undefined)
        throw unauthorized(
          reply,
          "The session has ended (logged out, expired, password changed or user disabled): log in again.",
        );
      return principal(found.user, "session", { id, csrfHash: found.csrfHash });
    }
    throw unauthorized(reply, "This route needs credentials.");
  };
}
