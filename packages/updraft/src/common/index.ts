export { UpdraftError, isUpdraftError, describeError } from "./errors.js";
export { parseDuration, formatDuration } from "./duration.js";
export type { Duration } from "./duration.js";
