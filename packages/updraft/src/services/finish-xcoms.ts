// The XCom part of a finish (services/finish-task-instance.ts): the return value and further XComs
// a successful try reports, the statement's CTE storing them, and the XComs of a try handed over.
import { sql, type RawBuilder } from "kysely";
import { UpdraftError } from "../common/errors.js";
import type { Executor, JsonValue } from "../db/index.js";
import type { FinishRequest, TaskInstanceKey, TokenClaims } from "../model/execution-api.js";
import type { XComReference } from "../model/dag-plan.js";
import { xcomSubquery, type StartRow } from "./start-context.js";
import { xcomJson } from "./task-xcom.js";

/** The XComs a finish stores: keys and their JSON texts, in the same order. */
export interface XComRows {
  keys: string[];
  jsons: string[];
}

/**
 * The return value and the further XComs (multipleOutputs) a successful try reports, checked
 * like pushes; null when there are none.
 */
export function finishXcoms(claims: TokenClaims, req: FinishRequest, maxSize: number): XComRows | null {
  const extra = req.xcoms ?? [];
  if ((req.return_value !== undefined || extra.length > 0) && req.state !== "success") {
    throw new UpdraftError("REQUEST_INVALID", "Only a successful try reports a return value or XComs.");
  }
  const rows: XComRows = { keys: [], jsons: [] };
  if (req.return_value !== undefined) {
    rows.keys.push("return_value");
    rows.jsons.push(xcomJson(claims.ti.task_id, "return_value", req.return_value.value, maxSize));
  }
  for (const x of extra) {
    if (rows.keys.includes(x.key)) {
      throw new UpdraftError("REQUEST_INVALID", `The finish report gives XCom "${x.key}" twice.`);
    }
    rows.keys.push(x.key);
    rows.jsons.push(xcomJson(claims.ti.task_id, x.key, x.value, maxSize));
  }
  return rows.keys.length === 0 ? null : rows;
}

/** The CTE storing the return value (and further XComs) of a try that ended successfully. */
export function xcomCte(claims: TokenClaims, rows: XComRows): RawBuilder<unknown> {
  const { ti } = claims;
  return sql`pushed as (
      insert into xcom (dag_id, run_id, task_id, map_index, key, value)
      select ${ti.dag_id}, ${ti.run_id}, ${ti.task_id}, ${ti.map_index}, v.key, v.value::json
      from ended, unnest(${rows.keys}::text[], ${rows.jsons}::text[]) as v(key, value)
      where ended.state = 'success'
      on conflict (dag_id, run_id, task_id, map_index, key) do update set value = excluded.value, timestamp = now()
    )`;
}

/**
 * The XComs a try handed over by this finish reads: the statement's read when it covered the try's
 * references, else read again (a try of another run reads its own, decision 0040 §4), with the
 * values this finish stored.
 */
export async function handedOverXcoms(
  db: Executor,
  claims: TokenClaims,
  req: FinishRequest,
  key: TaskInstanceKey,
  refs: readonly XComReference[],
  read: { xcoms: StartRow["xcoms"] | null; complete: boolean | null },
): Promise<StartRow["xcoms"]> {
  let xcoms = read.xcoms ?? [];
  if (read.complete !== true && refs.length > 0) {
    const again = await sql<{ xcoms: StartRow["xcoms"] }>`
        select ${xcomSubquery(key.dag_id, key.run_id, refs)} as xcoms`.execute(db);
    xcoms = again.rows[0]?.xcoms ?? [];
  }
  // The value this finish stored is not visible to the statement's own reads.
  const stored: [string, unknown][] =
    key.run_id !== claims.ti.run_id
      ? []
      : [
          ...(req.return_value === undefined
            ? []
            : [["return_value", req.return_value.value] as [string, unknown]]),
          ...(req.xcoms ?? []).map((x): [string, unknown] => [x.key, x.value]),
        ];
  for (const [xkey, value] of stored) {
    xcoms = xcoms.filter(
      (x) => !(x[0] === claims.ti.task_id && x[1] === xkey && x[2] === claims.ti.map_index),
    );
    xcoms.push([claims.ti.task_id, xkey, claims.ti.map_index, value as JsonValue]);
  }
  return xcoms;
}
