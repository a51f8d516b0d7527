// API tokens of the logged-in user (GET/POST /auth/tokens, DELETE /auth/tokens/{token_id}), the
// REST face of `updraft users tokens …` over the same service. Anyone logged in manages their own
// tokens; an Admin (users:edit) may pass ?username= to manage another user's. A token is returned
// once, when created, and stored hashed: the list never holds it.
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import {
  addAuditLog,
  listApiTokens,
  revokeApiToken,
  type ApiTokenRow,
  type Database,
} from "../../db/index.js";
import { createApiToken, requireUser } from "../../services/index.js";
import { Id, Text, actor, collection, route } from "./common.js";

const ForUser = z.object({ username: Id.optional() });
const TokenPath = z.object({
  token_id: z.coerce
    .number()
    .int()
    .min(1)
    .max(2 ** 31 - 1),
});

const ApiToken = z
  .object({
    id: z.number().int(),
    description: z.string().nullable(),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .meta({ id: "ApiToken" });
const ApiTokenCollection = collection("tokens", ApiToken, "ApiTokenCollection");

const CreateBody = z
  .object({
    description: Text.max(250).optional(),
    /** Lifetime in seconds; without it the token lives until revoked. */
    expires_in_seconds: z
      .number()
      .int()
      .min(60)
      .max(10 * 365 * 86_400)
      .optional(),
  })
  .strict()
  .meta({ id: "ApiTokenCreate" });
const NewToken = ApiToken.extend({ token: z.string() }).meta({ id: "NewApiToken" });

function tokenJson(t: ApiTokenRow): z.infer<typeof ApiToken> {
  return {
    id: t.id,
    description: t.description,
    created_at: t.created_at.toISOString(),
    expires_at: t.expires_at?.toISOString() ?? null,
    revoked_at: t.revoked_at?.toISOString() ?? null,
  };
}

/** Whose tokens a request manages: the caller's, or with ?username= another's (Admin only). */
function ownerOf(request: FastifyRequest, username: string | undefined): string {
  const p = request.principal;
  if (p === null) throw new UpdraftError("UNAUTHORIZED", "This route needs credentials.");
  if (username === undefined || username === p.username) return p.username;
  if (!p.permissions.has("users:edit")) {
    throw new UpdraftError(
      "FORBIDDEN",
      `User "${p.username}" may manage only their own API tokens: leave out ?username=, or ask an Admin to manage "${username}"'s.`,
      { details: { permission: "users:edit" } },
    );
  }
  return username;
}

export function tokenRoutes(database: Database) {
  const db = database.db;
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["Auth"];

    const list = { querystring: ForUser, response: { 200: ApiTokenCollection } };
    app.get("/auth/tokens", route("get_api_tokens", "List API tokens", tags, list), async (request) => {
      const user = await requireUser(db, ownerOf(request, request.query.username));
      const tokens = (await listApiTokens(db, user.id)).map(tokenJson);
      return { tokens, total_entries: tokens.length };
    });

    const create = { querystring: ForUser, body: CreateBody, response: { 200: NewToken } };
    const createRoute = route("post_api_token", "Create an API token (shown once)", tags, create);
    app.post("/auth/tokens", createRoute, async (request) => {
      const username = ownerOf(request, request.query.username);
      const b = request.body;
      const made = await createApiToken(db, username, {
        expiresInS: b.expires_in_seconds ?? null,
        description: b.description ?? null,
      });
      const user = await requireUser(db, username);
      const row = (await listApiTokens(db, user.id)).find((t) => t.id === made.id);
      if (row === undefined) throw new Error(`API token ${made.id} vanished right after its creation`);
      await addAuditLog(db, {
        event: "api_token.create",
        owner: actor(request),
        extra: JSON.stringify({ username, id: made.id }),
      });
      return { ...tokenJson(row), token: made.token };
    });

    const del = { params: TokenPath, querystring: ForUser, response: { 204: z.null() } };
    const delRoute = route("delete_api_token", "Revoke an API token", tags, del);
    app.delete("/auth/tokens/:token_id", delRoute, async (request, reply) => {
      const username = ownerOf(request, request.query.username);
      const user = await requireUser(db, username);
      const id = request.params.token_id;
      if (!(await revokeApiToken(db, id, user.id))) {
        throw new UpdraftError(
          "API_TOKEN_NOT_FOUND",
          `User "${username}" has no unrevoked API token ${id}. GET /api/v1/auth/tokens lists them.`,
          { details: { id } },
        );
      }
      await addAuditLog(db, {
        event: "api_token.revoke",
        owner: actor(request),
        extra: JSON.stringify({ username, id }),
      });
      return reply.code(204).send();
    });
  };
}
