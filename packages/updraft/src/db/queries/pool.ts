import { sql } from "kysely";
import { UpdraftError } from "../../common/errors.js";
import type { Executor } from "../executor.js";
import type { PoolRow } from "../schema.js";

/** The pool every task uses unless it names another; it cannot be deleted. */
const DEFAULT_POOL = "default_pool";

export interface PoolInput {
  pool: string;
  /** -1 for unlimited. */
  slots: number;
  description?: string | null;
  includeDeferred?: boolean;
}

export async function getPool(db: Executor, name: string): Promise<PoolRow | undefined> {
  return db.selectFrom("pool").selectAll().where("pool", "=", name).executeTakeFirst();
}

export async function listPools(
  db: Executor,
  options: { limit?: number; offset?: number } = {},
): Promise<PoolRow[]> {
  let q = db.selectFrom("pool").selectAll().orderBy("pool");
  if (options.limit !== undefined) q = q.limit(options.limit);
  if (options.offset !== undefined) q = q.offset(options.offset);
  return q.execute();
}

/** Creates or updates a pool. Slots must be -1 (unlimited) or more. */
export async function setPool(db: Executor, input: PoolInput): Promise<PoolRow> {
  if (!Number.isInteger(input.slots) || input.slots < -1) {
    throw new UpdraftError(
      "POOL_INVALID",
      `Pool "${input.pool}" needs slots as a whole number >= 0, or -1 for unlimited (got ${input.slots}).`,
    );
  }
  const values = {
    slots: input.slots,
    description: input.description ?? null,
    include_deferred: input.includeDeferred ?? false,
  };
  return db
    .insertInto("pool")
    .values({ pool: input.pool, ...values })
    .onConflict((oc) => oc.column("pool").doUpdateSet(values))
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Deletes a pool; returns whether it existed. Deleting default_pool is refused (POOL_DELETE_DEFAULT). */
export async function deletePool(db: Executor, name: string): Promise<boolean> {
  if (name === DEFAULT_POOL) {
    throw new UpdraftError(
      "POOL_DELETE_DEFAULT",
      `The pool "${DEFAULT_POOL}" cannot be deleted: tasks without a pool use it. Change its slots instead.`,
    );
  }
  const result = await db.deleteFrom("pool").where("pool", "=", name).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export interface PoolSlotStats {
  pool: string;
  /** -1 for unlimited. */
  slots: number;
  running: number;
  queued: number;
  scheduled: number;
  deferred: number;
  /** Slots free now (Infinity for an unlimited pool). */
  open: number;
}

/** Slot use per pool (running and queued task instances, and deferred ones when the pool counts them). */
export async function getPoolSlotStats(db: Executor): Promise<PoolSlotStats[]> {
  const rows = await db
    .selectFrom("pool as p")
    .leftJoin("task_instance as ti", "ti.pool", "p.pool")
    .select([
      "p.pool",
      "p.slots",
      "p.include_deferred",
      sql<number>`coalesce(sum(ti.pool_slots) filter (where ti.state = 'running'), 0)::int`.as("running"),
      sql<number>`coalesce(sum(ti.pool_slots) filter (where ti.state = 'queued'), 0)::int`.as("queued"),
      sql<number>`coalesce(sum(ti.pool_slots) filter (where ti.state = 'scheduled'), 0)::int`.as("scheduled"),
      sql<number>`coalesce(sum(ti.pool_slots) filter (where ti.state = 'deferred'), 0)::int`.as("deferred"),
    ])
    .groupBy(["p.pool", "p.slots", "p.include_deferred"])
    .orderBy("p.pool")
    .execute();
  return rows.map((r) => {
    const used = r.running + r.queued + (r.include_deferred ? r.deferred : 0);
    return {
      pool: r.pool,
      slots: r.slots,
      running: r.running,
      queued: r.queued,
      scheduled: r.scheduled,
      deferred: r.deferred,
      open: r.slots === -1 ? Infinity : Math.max(0, r.slots - used),
    };
  });
}
