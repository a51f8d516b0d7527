import { fileFound } from "../../sdk/sensors/file.js";
import { pollMs, sleep, type TriggerFn } from "../runtime.js";

/** Fires when a file matches kwargs.filepath (an absolute path or glob), as FileSensor pokes. */
export const fileTrigger: TriggerFn = async (kwargs, ctx) => {
  const pattern = String(kwargs["filepath"] ?? "");
  const interval = pollMs(kwargs, 5);
  for (;;) {
    const found = await fileFound(pattern, kwargs["recursive"] === true);
    if (found !== null) return { status: "success", path: found.path };
    await sleep(interval, ctx.signal);
  }
};
