// Rows as the REST API shows them: snake_case and Airflow's field names, dates in ISO 8601.
import type { DagRow, DagRunRow, ImportErrorRow, TaskInstanceRow } from "../../db/index.js";

export function iso(d: Date | null | undefined): string | null {
  return d === null || d === undefined ? null : d.toISOString();
}

export function dagJson(row: DagRow) {
  return {
    dag_id: row.dag_id,
    dag_display_name: row.dag_id,
    is_paused: row.is_paused,
    is_active: row.is_active,
    last_parsed_time: iso(row.last_parsed_time),
    fileloc: row.fileloc,
    owners: row.owners === null || row.owners === "" ? [] : row.owners.split(", "),
    description: row.description,
    timetable_summary: row.timetable_summary,
    timetable_description: row.timetable_summary,
    tags: row.tags.map((name) => ({ name })),
    max_active_tasks: row.max_active_tasks,
    max_active_runs: row.max_active_runs,
    has_import_errors: row.has_import_errors,
    next_dagrun: iso(row.next_dagrun),
    next_dagrun_data_interval_start: iso(row.next_dagrun_data_interval_start),
    next_dagrun_data_interval_end: iso(row.next_dagrun_data_interval_end),
    next_dagrun_create_after: iso(row.next_dagrun_create_after),
  };
}

export function dagRunJson(row: DagRunRow) {
  return {
    dag_run_id: row.run_id,
    dag_id: row.dag_id,
    logical_date: iso(row.logical_date),
    execution_date: iso(row.logical_date),
    data_interval_start: iso(row.data_interval_start),
    data_interval_end: iso(row.data_interval_end),
    run_after: iso(row.run_after),
    queued_at: iso(row.queued_at),
    start_date: iso(row.start_date),
    end_date: iso(row.end_date),
    last_scheduling_decision: iso(row.last_scheduling_decision),
    run_type: row.run_type,
    state: row.state,
    external_trigger: row.external_trigger,
    conf: row.conf,
    clear_number: row.clear_number,
    note: row.note,
  };
}

export function taskInstanceJson(row: TaskInstanceRow) {
  return {
    task_id: row.task_id,
    task_display_name: row.task_display_name ?? row.task_id,
    dag_id: row.dag_id,
    dag_run_id: row.run_id,
    map_index: row.map_index,
    state: row.state,
    try_number: row.try_number,
    max_tries: row.max_tries,
    start_date: iso(row.start_date),
    end_date: iso(row.end_date),
    duration: row.duration,
    queued_when: iso(row.queued_dttm),
    scheduled_when: iso(row.scheduled_dttm),
    next_retry_at: iso(row.next_retry_at),
    hostname: row.hostname,
    pid: row.pid,
    pool: row.pool,
    pool_slots: row.pool_slots,
    queue: row.queue,
    priority_weight: row.priority_weight,
    operator: row.operator,
    executor: row.executor,
    rendered_fields: row.rendered_fields,
    note: row.note,
    /** Why it waits though its upstream tasks are done (depends_on_past), or null. */
    wait_reason: row.wait_reason,
    // Airflow's TaskInstanceSchema: the mapped instance's name from map_index_template, or null.
    rendered_map_index: row.rendered_map_index ?? null,
  };
}

export function importErrorJson(row: ImportErrorRow) {
  return {
    import_error_id: row.id,
    timestamp: iso(row.timestamp),
    filename: row.filename,
    stack_trace: row.stacktrace,
    line: row.line,
  };
}
