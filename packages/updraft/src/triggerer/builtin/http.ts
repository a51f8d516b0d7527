import { openHttp } from "../../hooks/index.js";
import { pollMs, sleep, type TriggerFn } from "../runtime.js";

/**
 * Fires when the endpoint answers 2xx; statuses in notYetStatuses (default 404) mean "not yet",
 * others fail the task — the rule HttpSensor pokes by. The connection is read here, so no
 * credentials are stored in the trigger's kwargs.
 */
export const httpTrigger: TriggerFn = async (kwargs, ctx) => {
  const conn = await ctx.connection(String(kwargs["httpConnId"] ?? "http_default"));
  const hook = openHttp(conn);
  const notYet = (Array.isArray(kwargs["notYetStatuses"]) ? kwargs["notYetStatuses"] : ["404"]).map(String);
  const interval = pollMs(kwargs, 5);
  for (;;) {
    const res = await hook.run(String(kwargs["endpoint"] ?? ""), {
      method: typeof kwargs["method"] === "string" ? kwargs["method"] : "GET",
      ...(kwargs["headers"] === undefined ? {} : { headers: kwargs["headers"] as Record<string, string> }),
      ...(kwargs["data"] === undefined ? {} : { data: kwargs["data"] }),
      signal: ctx.signal,
    });
    if (res.ok) return { status: "success", httpStatus: res.status };
    if (!notYet.includes(String(res.status)))
      return { status: "failed", message: `HTTP ${res.status} from ${res.url}: ${res.text.slice(0, 500)}` };
    ctx.log(`HTTP ${res.status}: not yet`);
    await sleep(interval, ctx.signal);
  }
};
