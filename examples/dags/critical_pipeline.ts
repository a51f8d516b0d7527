// A time-sensitive pipeline with retries, exponential backoff, a timeout and an SLA.
// Port of the seed's critical_pipeline. The seed gives no start date (Airflow would refuse to
// schedule it); this port starts on 2026-01-01 and does not catch up.
import { dag, task, type SlaMiss } from "updraft";

function slaAlert(miss: SlaMiss): void {
  console.log(`SLA missed in ${miss.dag_id} (${miss.run_id}) by: ${miss.task_ids.join(", ")}`);
}

// The SLA and the task's work come from the environment so that a miss can be seen in seconds
// (test/monitoring/critical-pipeline-sla.test.ts sets them); by default, the tutorial's 30 minutes
// and no work at all.
const sla = process.env["CRITICAL_PIPELINE_SLA"] ?? "30m";
const workMs = Number(process.env["CRITICAL_PIPELINE_WORK_MS"] ?? "0");

const timeSensitiveTask = task({ taskId: "time_sensitive_task", sla }, async () => {
  // This task must complete within the SLA. If it takes longer, the slaMissCallback fires.
  if (workMs > 0) await new Promise((resolve) => setTimeout(resolve, workMs));
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
