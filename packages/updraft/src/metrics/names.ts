// Airflow's metric names with their variable parts. In StatsD the variable parts are part of the
// name (`dagrun.duration.success.<dag_id>`), as Airflow sends them; Prometheus gets them as labels,
// as the statsd_exporter mapping in monitoring/statsd-mapping.yml extracts them. DogStatsD tags
// carry every tag a call site passes (dag_id and task_id on ti_failures too).

/** One emitted metric: the StatsD name (variable parts appended) and its labels. */
export interface NamedMetric {
  /** The Prometheus family: the base name, dots as underscores, without the prefix. */
  readonly base: string;
  /** The name as Airflow sends it over StatsD (without the prefix). */
  readonly statsd: string;
  /** The variable parts, by label name (only those the StatsD name carries). */
  readonly labels: Readonly<Record<string, string>>;
}

/** StatsD names are dot-separated: a dot or colon inside a variable part would split it. */
const clean = (s: string): string => s.replace(/[:|@#\s]/g, "_");

const BY_LABELS: Record<string, readonly string[]> = {
  "dag_processing.last_duration": ["file"],
  "pool.open_slots": ["pool"],
  "pool.queued_slots": ["pool"],
  "pool.running_slots": ["pool"],
  "pool.starving_tasks": ["pool"],
  "dagrun.duration.success": ["dag_id"],
  "dagrun.duration.failed": ["dag_id"],
  "dagrun.schedule_delay": ["dag_id"],
  "ti.start": ["dag_id", "task_id"],
  "ti.finish": ["dag_id", "task_id", "state"],
  "triggers.running": ["hostname"],
  "triggerer.capacity_left": ["hostname"],
};

/**
 * The StatsD name of `base` with its labels appended in Airflow's order, e.g.
 * ("ti.finish", {dag_id, task_id, state}) → "ti.finish.<dag_id>.<task_id>.<state>".
 */
export function named(base: string, labels: Readonly<Record<string, string>> = {}): NamedMetric {
  const keys = BY_LABELS[base] ?? [];
  const statsd = keys.length === 0 ? base : [base, ...keys.map((k) => clean(labels[k] ?? ""))].join(".");
  // Prometheus gets as labels exactly what the StatsD name carries (what the exporter's mapping
  // can extract): ti_failures has none, ti.finish has dag_id, task_id and state.
  const path: Record<string, string> = {};
  for (const k of keys) path[k] = labels[k] ?? "";
  return { base: base.replace(/\./g, "_"), statsd, labels: path };
}
