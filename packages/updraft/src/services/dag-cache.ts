// Serialized DAGs are read on the hot path of every task (start needs params and XCom references,
// finish needs retry settings and downstream tasks). They are cached by content hash, so a cached
// entry is never stale: callers guard their writes on the hash they used (see finish).
import { sql } from "kysely";
import type { Executor } from "../db/index.js";
import { downstreamClosure } from "../model/graph.js";
import type { ParamSpec } from "../model/params.js";
import {
  isXComRef,
  parseSerializedDag,
  type SerializedDag,
  type SerializedTask,
} from "../model/serialized-dag.js";

/** An XCom a task's fields refer to, and the key the runner looks it up by (`task|key|map_index`). */
export interface XComReference {
  taskId: string;
  key: string;
  /** The producer is mapped: the runner wants all its values as one list. */
  mapped: boolean;
  prefetchKey: string;
}

/** A parsed serialized DAG with what the execution API derives from it, computed once per hash. */
export class CachedDag {
  readonly tasks: ReadonlyMap<string, SerializedTask>;
  readonly paramSpecs: Readonly<Record<string, ParamSpec>>;
  private readonly refs = new Map<string, readonly XComReference[]>();
  private readonly downstream = new Map<string, readonly string[]>();

  constructor(
    readonly dag: SerializedDag,
    readonly hash: string,
  ) {
    this.tasks = new Map(dag.tasks.map((t) => [t.task_id, t]));
    this.paramSpecs = dag.params as Record<string, ParamSpec>;
  }

  /** XComs the task's fields and expansion refer to, deduplicated. */
  xcomReferences(taskId: string): readonly XComReference[] {
    let out = this.refs.get(taskId);
    if (out !== undefined) return out;
    const task = this.tasks.get(taskId);
    const found = new Map<string, XComReference>();
    const walk = (value: unknown): void => {
      if (isXComRef(value)) {
        const { task_id, key } = value.__xcom__;
        const mapped = (this.tasks.get(task_id)?.expand ?? null) !== null;
        const prefetchKey = `${task_id}|${key}|${mapped ? "" : "-1"}`;
        found.set(prefetchKey, { taskId: task_id, key, mapped, prefetchKey });
      } else if (Array.isArray(value)) value.forEach(walk);
      else if (typeof value === "object" && value !== null) Object.values(value).forEach(walk);
    };
    if (task !== undefined) {
      walk(task.fields);
      walk(task.expand);
    }
    out = [...found.values()];
    this.refs.set(taskId, out);
    return out;
  }

  /** Every task downstream of `taskId`, directly or not. */
  allDownstream(taskId: string): readonly string[] {
    let out = this.downstream.get(taskId);
    if (out === undefined) {
      out = this.tasks.has(taskId) ? downstreamClosure(this.dag.tasks, taskId) : [];
      this.downstream.set(taskId, out);
    }
    return out;
  }
}

const MAX_ENTRIES = 256;
const byHash = new Map<string, CachedDag>();
/** The hash last seen per DAG id: a hint only, every use is checked against the database. */
const latestHash = new Map<string, string>();

function remember(dagId: string, entry: CachedDag): CachedDag {
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

/** The cached DAG for the hash last seen, without a query; may be outdated. */
export function peekCachedDag(dagId: string): CachedDag | undefined {
  const hash = latestHash.get(dagId);
  return hash === undefined ? undefined : byHash.get(`${dagId}\0${hash}`);
}

/** The DAG as stored now (one query unless the stored hash is `knownHash` and cached), or undefined. */
export async function loadDag(
  db: Executor,
  dagId: string,
  knownHash?: string | null,
): Promise<CachedDag | undefined> {
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
  return remember(dagId, new CachedDag(parseSerializedDag(row.data), row.dag_hash));
}

/** The stored hash of a DAG's serialized form, or null. */
export async function storedDagHash(db: Executor, dagId: string): Promise<string | null> {
  const r = await sql<{
    h: string | null;
  }>`select dag_hash as h from serialized_dag where dag_id = ${dagId}`.execute(db);
  return r.rows[0]?.h ?? null;
}
