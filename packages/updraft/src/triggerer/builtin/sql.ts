import { openPostgres } from "../../hooks/index.js";
import { pythonTruthy } from "../../sdk/operators/sql-text.js";
import { pollMs, sleep, type TriggerFn } from "../runtime.js";

/**
 * Fires when the query's first cell is truthy (Python's rules, as SqlSensor); no rows is "not
 * yet", or a failure with failOnEmpty. One connection for the trigger's life, closed at its end.
 */
export const sqlTrigger: TriggerFn = async (kwargs, ctx) => {
  const conn = await ctx.connection(String(kwargs["connId"] ?? "postgres_default"));
  const session = openPostgres(conn);
  const interval = pollMs(kwargs, 5);
  try {
    for (;;) {
      const rows = (await session.run(String(kwargs["sql"] ?? ""), {
        ...(Array.isArray(kwargs["parameters"]) ? { parameters: kwargs["parameters"] } : {}),
        autocommit: true,
        rowMode: "array",
      })) as unknown[][];
      const first = rows[0];
      if (first === undefined && kwargs["failOnEmpty"] === true)
        return { status: "failed", message: "no rows returned, raising per failOnEmpty" };
      if (first !== undefined && pythonTruthy(first[0])) return { status: "success", value: first[0] };
      await sleep(interval, ctx.signal);
    }
  } finally {
    await session.close();
  }
};
