// Serialized DAGs are read on the hot path of every task (the scheduler plans runs with them,
// start needs params and XCom references, finish needs retry settings and downstream tasks). They
// are parsed into a DagPlan once per content hash and cached, so a cached entry is never stale:
// callers guard their writes on the hash they used (see finish). The one cache of the process.
import type { Executor } from "../db/index.js";
import { DagPlan } from "../model/dag-plan.js";
import { parseSerializedDag } from "../model/serialized-dag.js";

const MAX_ENTRIES = 256;
const byHash = new Map<string, DagPlan>();
/** The hash last seen per DAG id: a hint only, every use is checked against the database. */
const latestHash = new Map<string, string>();

function remember(dagId: string, entry: DagPlan): DagPlan {
  const key = `${dagId}\0${entry.hash}`;
  byHash.delete(key);
  byHash.set(key, entry);
  if (byHash.size > MAX_ENTRIES) {
    const oldest = byHash.keys().next().value;
    if (oldest !== undefined) byHash.delete(oldest);
  }
  latestHash.set(dagId, entry.hash);
  return entry;
}

/** The cached plan for the hash last seen, without a query; may be outdated. */
export function peekDag(dagId: string): DagPlan | undefined {
  const hash = latestHash.get(dagId);
  return hash === undefined ? undefined : byHash.get(`${dagId}\0${hash}`);
}

/**
 * The DAG's plan as stored with `knownHash` (no query when cached), or as stored now (one query
 * when `knownHash` is not given or not cached); undefined when the DAG has no serialized form.
 */
export async function loadDag(
  db: Executor,
  dagId: string,
  knownHash?: string | null,
): Promise<DagPlan | undefined> {
  if (knownHash !== undefined && knownHash !== null) {
    const hit = byHash.get(`${dagId}\0${knownHash}`);
    if (hit !== undefined) return remember(dagId, hit);
  }
  const row = await db
    .selectFrom("serialized_dag")
    .select(["data", "dag_hash"])
    .where("dag_id", "=", dagId)
    .executeTakeFirst();
  if (row === undefined) return undefined;
  const hit = byHash.get(`${dagId}\0${row.dag_hash}`);
  if (hit !== undefined) return remember(dagId, hit);
  return remember(dagId, new DagPlan(parseSerializedDag(row.data), row.dag_hash));
}
