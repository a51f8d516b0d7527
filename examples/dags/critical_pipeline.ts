// A time-sensitive pipeline with retries, exponential backoff, a timeout and an SLA.
// Port of the seed's critical_pipeline. The seed gives no start date (Airflow would refuse to
// schedule it); this port starts on 2026-01-01 and does not catch up.
import { dag, task, type SlaMiss } from "updraft";

function slaAlert(miss: SlaMiss): void {
  console.log(`SLA missed in ${miss.dag_id} (${miss.run_id}) by: ${miss.task_ids.join(", ")}`);
}

const timeSensitiveTask = task({ taskId: "time_sensitive_task", sla: "30m" }, () => {
  // This task must complete within 30 minutes. If it takes longer, the slaMissCallback fires.
});

export default dag(
  {
    dagId: "critical_pipeline",
    schedule: "0 */2 * * *", // Every 2 hours
    startDate: "2026-01-01",
    catchup: false,
    slaMissCallback: slaAlert,
    defaultArgs: {
      retries: 3, // Retry up to 3 times
      retryDelay: "5m", // Wait 5 minutes before first retry
      retryExponentialBackoff: true, // Exponential backoff: 5 min, 10 min, 20 min
      maxRetryDelay: "1h", // Cap maximum retry delay at 1 hour
      executionTimeout: "2h", // Timeout the task after 2 hours
      emailOnFailure: true, // Send email on failure (after all retries exhausted)
      emailOnRetry: false,
    },
  },
  () => {
    timeSensitiveTask();
  },
);
