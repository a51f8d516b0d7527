export { Triggerer } from "./triggerer.js";
export type { TriggererOptions, TriggererLogger } from "./triggerer.js";
export { TriggerLoader } from "./load-trigger.js";
