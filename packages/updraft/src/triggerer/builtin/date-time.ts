import { UpdraftError } from "../../common/errors.js";
import { sleep, type TriggerFn } from "../runtime.js";

/** Node's timers hold at most 2^31-1 ms: longer waits sleep in steps. */
const MAX_TIMER_MS = 2_147_483_647;

/** Fires at kwargs.moment (Airflow's DateTimeTrigger): one timer, no polling. */
export const dateTimeTrigger: TriggerFn = async (kwargs, ctx) => {
  const moment = Date.parse(String(kwargs["moment"]));
  if (Number.isNaN(moment))
    throw new UpdraftError(
      "TRIGGER_INVALID",
      `DateTimeTrigger: moment ${JSON.stringify(kwargs["moment"])} is not a date.`,
    );
  for (let left = moment - Date.now(); left > 0; left = moment - Date.now())
    await sleep(Math.min(left, MAX_TIMER_MS), ctx.signal);
  return { status: "success", moment: new Date(moment).toISOString() };
};
