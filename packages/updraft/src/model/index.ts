export {
  TaskInstanceState,
  TASK_INSTANCE_STATES,
  FINISHED_TI_STATES,
  UNFINISHED_TI_STATES,
  DagRunState,
  DAG_RUN_STATES,
  DagRunType,
} from "./states.js";
export {
  TriggerRule,
  TRIGGER_RULES,
  isTriggerRule,
  parseTriggerRule,
  countUpstreamStates,
  evaluateTriggerRule,
  evaluateSetupConstraint,
} from "./trigger-rules.js";
export type { UpstreamCounts, TriggerRuleOptions, TriggerRuleOutcome } from "./trigger-rules.js";
export { nextRetryDelayMs, MAX_RETRY_DELAY_MS } from "./retry-delay.js";
export type { RetryDelayInput } from "./retry-delay.js";
export { parseSchedule, validateTimezone, dataIntervalsBetween, SCHEDULE_PRESETS } from "./timetable.js";
export type {
  Schedule,
  Timetable,
  DataInterval,
  DagRunInfo,
  TimeRestriction,
  NextDagRunInfoArgs,
} from "./timetable.js";
export { normalizeParams, resolveParams, validateParam, PARAM_TYPES } from "./params.js";
export type { ParamSpec, ParamType, RawParams } from "./params.js";
export { findCycle, topologicalOrder, downstreamClosure, upstreamClosure, roots, leaves } from "./graph.js";
export type { GraphTask } from "./graph.js";
export {
  effectivePriorityWeights,
  WeightRule,
  WEIGHT_RULES,
  MIN_PRIORITY_WEIGHT,
  MAX_PRIORITY_WEIGHT,
} from "./priority-weight.js";
export type { WeightedTask } from "./priority-weight.js";
