import type { Dag } from "./dag.js";

/**
 * DAGs created while a file is imported. Kept on `globalThis` so that a DAG file and the
 * processor agree even if the SDK module were loaded twice.
 */
interface Registry {
  dags: Dag[];
}
const KEY = Symbol.for("updraft.dagRegistry");
const holder = globalThis as unknown as Record<symbol, Registry | undefined>;

function registry(): Registry {
  return (holder[KEY] ??= { dags: [] });
}

/** @internal Records a DAG created by `dag(...)`. */
export function registerDag(dag: Dag): void {
  registry().dags.push(dag);
}

/** @internal Returns the DAGs registered since the last call and starts over. */
export function takeRegisteredDags(): Dag[] {
  const r = registry();
  const dags = r.dags;
  r.dags = [];
  return dags;
}
