/** Placeholder replaced in step 3: the simulated Spark operator. */
import type { Hooks } from "./handlers.js";
import type { SimParts } from "./index.js";

export function withSparkOperator(): (parts: SimParts) => Hooks {
  return () => ({});
}
