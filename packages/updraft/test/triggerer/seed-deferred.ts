// Deferred task instances written straight into the metadata database, each waiting on a
// DateTimeTrigger: what the triggerer sees after `count` tasks deferred (without running them).
import { sql } from "kysely";
import type { Executor } from "../../src/db/index.js";

/** One DAG run `dagId`/`r` with tasks t1…t<count>; task i's trigger is due at `dueAt(i)`. */
export async function seedDeferred(
  db: Executor,
  dagId: string,
  count: number,
  dueAt: (i: number) => Date,
): Promise<void> {
  const moments = Array.from({ length: count }, (_, i) => dueAt(i + 1).toISOString());
  await sql`insert into dag (dag_id) values (${dagId})`.execute(db);
  await sql`insert into dag_run (dag_id, run_id, run_type, state) values (${dagId}, 'r', 'manual', 'running')`.execute(
    db,
  );
  const base = await sql<{ n: number }>`select coalesce(max(id), 0)::int as n from trigger`.execute(db);
  const first = (base.rows[0]?.n ?? 0) + 1;
  await sql`
    insert into trigger (id, classpath, kwargs)
    select ${first} + ord::int - 1, 'updraft.triggers.DateTimeTrigger', jsonb_build_object('moment', moment)
    from unnest(${moments}::text[]) with ordinality as u(moment, ord)`.execute(db);
  await sql`select setval('trigger_id_seq', (select max(id) from trigger))`.execute(db);
  await sql`
    insert into task_instance (dag_id, run_id, task_id, state, try_number, max_tries, trigger_id, next_method, next_kwargs)
    select ${dagId}, 'r', 't' || g, 'deferred', 0, 0, ${first} + g - 1, 'executeComplete', '{}'::jsonb
    from generate_series(1, ${count}) g`.execute(db);
}
