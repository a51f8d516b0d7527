import { setDagPaused as writeDagPaused, type DagRow, type Executor } from "../db/index.js";
import type { EngineEvents } from "../events/engine-events.js";
import { dagNotFound } from "./ids.js";

/** Pauses or unpauses a DAG (DAG_NOT_FOUND if there is none) and tells the scheduler. */
export async function setDagPaused(
  db: Executor,
  dagId: string,
  paused: boolean,
  options: { events?: EngineEvents | null } = {},
): Promise<DagRow> {
  const row = await writeDagPaused(db, dagId, paused);
  if (row === undefined) throw dagNotFound(dagId);
  options.events?.emit({ type: "dag_changed", dag_id: dagId });
  return row;
}
