import type { FastifyInstance } from "fastify";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { z } from "zod";
import { UpdraftError } from "../../common/errors.js";
import {
  deletePool,
  getPool,
  getPoolSlotStats,
  listPools,
  setPool,
  type Database,
  type PoolRow,
} from "../../db/index.js";
import { Id, Page, Text, collection, route } from "./common.js";

const PoolPath = z.object({ pool_name: Id });
const Slots = z
  .number()
  .int()
  .min(-1)
  .max(2 ** 31 - 1);
const CreateBody = z
  .object({
    name: Id,
    slots: Slots,
    description: Text.nullable().optional(),
    include_deferred: z.boolean().optional(),
  })
  .strict();
const PatchBody = z
  .object({
    name: Id.optional(),
    slots: Slots.optional(),
    description: Text.nullable().optional(),
    include_deferred: z.boolean().optional(),
  })
  .strict();

const Pool = z
  .object({
    name: z.string(),
    slots: z.number().int(),
    occupied_slots: z.number().int(),
    running_slots: z.number().int(),
    queued_slots: z.number().int(),
    scheduled_slots: z.number().int(),
    deferred_slots: z.number().int(),
    open_slots: z.number().int(),
    description: z.string().nullable(),
    include_deferred: z.boolean(),
  })
  .meta({ id: "Pool" });
const PoolCollection = collection("pools", Pool, "PoolCollection");

function notFound(name: string): UpdraftError {
  return new UpdraftError("POOL_NOT_FOUND", `Pool "${name}" does not exist. GET /api/v1/pools lists them.`);
}

export function poolRoutes(database: Database) {
  const db = database.db;
  async function withStats(rows: readonly PoolRow[]) {
    const stats = new Map((await getPoolSlotStats(db)).map((s) => [s.pool, s]));
    return rows.map((p) => {
      const s = stats.get(p.pool);
      const running = s?.running ?? 0;
      const queued = s?.queued ?? 0;
      const deferred = s?.deferred ?? 0;
      const occupied = running + queued + (p.include_deferred ? deferred : 0);
      return {
        name: p.pool,
        slots: p.slots,
        occupied_slots: occupied,
        running_slots: running,
        queued_slots: queued,
        scheduled_slots: s?.scheduled ?? 0,
        deferred_slots: deferred,
        open_slots: p.slots === -1 ? -1 : Math.max(0, p.slots - occupied),
        description: p.description,
        include_deferred: p.include_deferred,
      };
    });
  }
  return async function routes(root: FastifyInstance): Promise<void> {
    const app = root.withTypeProvider<ZodTypeProvider>();
    const tags = ["Pool"];
    const list = { querystring: Page, response: { 200: PoolCollection } };
    app.get("/pools", route("get_pools", "List pools", tags, list), async (request) => {
      const q = request.query;
      const [rows, total] = await Promise.all([
        listPools(db, { limit: q.limit, offset: q.offset }),
        db
          .selectFrom("pool")
          .select((eb) => eb.fn.countAll<number>().as("n"))
          .executeTakeFirstOrThrow(),
      ]);
      return { pools: await withStats(rows), total_entries: Number(total.n) };
    });

    const one = { params: PoolPath, response: { 200: Pool } };
    app.get("/pools/:pool_name", route("get_pool", "Get a pool", tags, one), async (request) => {
      const { pool_name } = request.params;
      const row = await getPool(db, pool_name);
      if (row === undefined) throw notFound(pool_name);
      return (await withStats([row]))[0];
    });

    const create = { body: CreateBody, response: { 200: Pool } };
    app.post("/pools", route("post_pool", "Create a pool", tags, create), async (request) => {
      const body = request.body;
      if ((await getPool(db, body.name)) !== undefined) {
        throw new UpdraftError(
          "POOL_EXISTS",
          `Pool "${body.name}" already exists. PATCH /api/v1/pools/{pool_name} changes it.`,
        );
      }
      const row = await setPool(db, {
        pool: body.name,
        slots: body.slots,
        description: body.description ?? null,
        includeDeferred: body.include_deferred ?? false,
      });
      return (await withStats([row]))[0];
    });

    const patch = { params: PoolPath, body: PatchBody, response: { 200: Pool } };
    app.patch("/pools/:pool_name", route("patch_pool", "Update a pool", tags, patch), async (request) => {
      const { pool_name } = request.params;
      const body = request.body;
      if (body.name !== undefined && body.name !== pool_name) {
        throw new UpdraftError(
          "REQUEST_INVALID",
          `The body's name "${body.name}" differs from the path's "${pool_name}"; a pool cannot be renamed.`,
        );
      }
      const row = await getPool(db, pool_name);
      if (row === undefined) throw notFound(pool_name);
      const next = await setPool(db, {
        pool: pool_name,
        slots: body.slots ?? row.slots,
        description: body.description === undefined ? row.description : body.description,
        includeDeferred: body.include_deferred ?? row.include_deferred,
      });
      return (await withStats([next]))[0];
    });

    const del = { params: PoolPath, response: { 204: z.null() } };
    app.delete(
      "/pools/:pool_name",
      route("delete_pool", "Delete a pool", tags, del),
      async (request, reply) => {
        const { pool_name } = request.params;
        if (!(await deletePool(db, pool_name))) throw notFound(pool_name);
        return reply.code(204).send();
      },
    );
  };
}
