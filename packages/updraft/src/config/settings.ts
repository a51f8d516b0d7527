import { boolean, choice, integer, optionalString, path, seconds, string } from "./setting.js";
import type { SettingValue } from "./setting.js";

/**
 * Every setting Updraft reads, by section and key. Names follow Airflow's where Airflow has the
 * setting, so that `UPDRAFT__CORE__PARALLELISM` means what `AIRFLOW__CORE__PARALLELISM` means.
 * Add a setting here and it is typed, validated, listed and overridable by env at once.
 */
export const SETTINGS = {
  core: {
    dags_folder: path({
      default: "$UPDRAFT_HOME/dags",
      description: "Folder the DAG processor scans for DAG files.",
    }),
    dag_file_processor_timeout: seconds({
      default: 50,
      description: "Seconds a DAG file may take to evaluate before its processor is killed.",
    }),
    parallelism: integer({
      default: 32,
      min: 1,
      description: "Task instances that may run at once per scheduler, across all DAGs.",
    }),
    max_active_tasks_per_dag: integer({
      default: 16,
      min: 1,
      description: "Task instances that may run at once in one DAG, unless the DAG sets its own.",
    }),
    max_active_runs_per_dag: integer({
      default: 16,
      min: 1,
      description: "DAG runs that may be active at once per DAG, unless the DAG sets its own.",
    }),
    max_consecutive_failed_dag_runs_per_dag: integer({
      default: 0,
      min: 0,
      description:
        "Pause a DAG after this many consecutive failed runs, unless the DAG sets maxConsecutiveFailedDagRuns; 0 never pauses.",
    }),
    dags_are_paused_at_creation: boolean({
      default: true,
      description: "Whether a newly found DAG starts paused.",
    }),
    default_timezone: string({
      default: "utc",
      description: 'Time zone of naive dates in DAG definitions ("utc" or an IANA name).',
    }),
    fernet_key: optionalString({
      secret: true,
      description:
        "Key that encrypts connection passwords, extras and variables at rest: 32 random bytes in url-safe base64. Several keys separated by commas allow rotation (the first encrypts).",
    }),
    xcom_max_size: integer({
      default: 1_048_576,
      min: 1,
      description: "Largest XCom value in bytes (as JSON).",
    }),
    default_pool_task_slot_count: integer({
      default: 128,
      min: 0,
      description: "Slots of default_pool when it is first created.",
    }),
    executor: string({
      default: "LocalExecutor",
      description:
        "Where the scheduler runs task instances: LocalExecutor (processes on this machine), KubernetesExecutor (one Pod per try) or QueueExecutor (long-lived workers on Redis). Several, comma-separated, run side by side: the first is the default, a task's `executor` option picks another.",
    }),
    execution_api_server_url: optionalString({
      description:
        "URL task runners use to reach the execution API. Unset means http://localhost:{api.port}/execution/.",
    }),
  },
  database: {
    sql_alchemy_conn: optionalString({
      secret: true,
      aliases: ["url"],
      description:
        "Metadata database URL (postgres://user:pass@host:5432/db). Unset means the embedded database in $UPDRAFT_HOME/db.",
    }),
    sql_alchemy_pool_size: integer({
      default: 10,
      min: 1,
      description: "Connections in the PostgreSQL pool of each process.",
    }),
  },
  scheduler: {
    scheduler_heartbeat_sec: seconds({
      default: 5,
      description: "Seconds between scheduler heartbeats and safety-net loop passes.",
    }),
    scheduler_health_check_threshold: seconds({
      default: 30,
      description:
        "Seconds without a heartbeat after which another scheduler counts as dead and its queued task instances are adopted.",
    }),
    task_queued_timeout: seconds({
      default: 600,
      description: "Seconds a task instance may stay queued before it is failed or requeued.",
    }),
    task_instance_heartbeat_timeout: seconds({
      default: 300,
      aliases: ["scheduler_zombie_task_threshold", "task_heartbeat_timeout"],
      description: "Seconds without a heartbeat after which a running task instance is considered lost.",
    }),
    dag_dir_list_interval: seconds({
      default: 30,
      description: "Seconds between scans of the DAGs folder for new files.",
    }),
  },
  api: {
    host: string({ default: "0.0.0.0", description: "Address the API server listens on." }),
    port: integer({ default: 8080, min: 1, max: 65535, description: "Port the API server listens on." }),
    secret_key: optionalString({
      secret: true,
      description: "Key that signs sessions and task tokens. Required outside `updraft standalone`.",
    }),
    session_lifetime_minutes: integer({
      default: 43200,
      min: 1,
      description:
        "Minutes a login session (the cookie of POST /api/v1/auth/login) lasts, as Airflow's webserver.session_lifetime_minutes.",
    }),
    trust_proxy: boolean({
      default: false,
      description:
        "Trust X-Forwarded-Proto/-For from a reverse proxy in front of the API server: the session cookie is then Secure when the proxy was reached over https, and login limits count the client's address.",
    }),
  },
  webserver: {
    maximum_page_limit: integer({
      default: 100,
      min: 1,
      max: 100_000,
      description:
        "The most items one page of a REST list returns: a larger `limit` (or `page_limit`) gets this many, as Airflow's webserver.maximum_page_limit.",
    }),
    expose_config: choice({
      default: "false",
      choices: ["false", "true", "non-sensitive-only"],
      description:
        'Whether GET /api/v1/config shows the configuration (to Op and Admin), as Airflow\'s webserver.expose_config: false refuses (403), true shows every value, non-sensitive-only shows secrets as "< hidden >".',
    }),
    base_url: string({
      default: "http://localhost:8080",
      description: "The address users reach the UI at: links in notification emails point there.",
    }),
  },
  smtp: {
    smtp_host: string({
      default: "localhost",
      description: "SMTP server that notification emails are sent through.",
    }),
    smtp_port: integer({ default: 25, min: 1, max: 65535, description: "Port of the SMTP server." }),
    smtp_starttls: boolean({
      default: true,
      description: "Upgrade the connection with STARTTLS (required when true).",
    }),
    smtp_ssl: boolean({ default: false, description: "Connect with TLS from the start (port 465 usually)." }),
    smtp_user: optionalString({ description: "User name for SMTP authentication; none sends without." }),
    smtp_password: optionalString({ secret: true, description: "Password for SMTP authentication." }),
    smtp_mail_from: string({
      default: "updraft@example.com",
      description: "The From address of notification emails.",
    }),
    smtp_timeout: seconds({
      default: 30,
      description: "Seconds before an SMTP connection or command gives up.",
    }),
    smtp_retry_limit: integer({
      default: 5,
      min: 1,
      max: 100,
      description: "Attempts to send one notification before it is given up (logged, never failing a task).",
    }),
  },
  email: {
    subject_template: optionalString({
      description:
        "A nunjucks file for the subject of failure and retry emails (variables: ti, dag_id, task_id, run_id, try_number, max_tries, state, exception, log_url, logical_date).",
    }),
    html_content_template: optionalString({
      description: "A nunjucks file for the HTML body of failure and retry emails (the same variables).",
    }),
  },
  kubernetes_executor: {
    namespace: string({
      default: "default",
      description: "Namespace the KubernetesExecutor creates worker Pods in.",
    }),
    pod_template_file: optionalString({
      description:
        "YAML file of the worker Pod template (a Pod whose container `base` runs the task). Unset means the built-in template.",
    }),
    worker_container_repository: string({
      default: "",
      description:
        "Image repository of the worker Pods' base container. Empty means the template's image, else updraft:<version>.",
    }),
    worker_container_tag: string({
      default: "",
      description:
        "Image tag of the worker Pods (with worker_container_repository); empty means this Updraft's version.",
    }),
    delete_worker_pods: boolean({
      default: true,
      description:
        "Delete a worker Pod once its try is over; false keeps every Pod (labelled done) for debugging.",
    }),
    delete_worker_pods_on_failure: boolean({
      default: false,
      description:
        "With delete_worker_pods, also delete the Pods whose try failed (false keeps them for kubectl logs/describe).",
    }),
    worker_pods_pending_timeout: seconds({
      default: 300,
      description:
        "Seconds a worker Pod may stay Pending (unschedulable, pulling) before it is deleted and its try failed.",
    }),
    worker_pods_pending_timeout_check_interval: seconds({
      default: 120,
      description: "Seconds between checks for worker Pods pending past worker_pods_pending_timeout.",
    }),
    worker_pods_creation_batch_size: integer({
      default: 1,
      min: 1,
      description:
        "Worker Pods created at once (requests in flight); Airflow creates this many per scheduler loop.",
    }),
    api_request_timeout: seconds({
      default: 30,
      description:
        "Seconds the KubernetesExecutor waits for each Kubernetes API answer before it retries (Airflow sets this through kube_client_request_args).",
    }),
    in_cluster: boolean({
      default: false,
      description:
        "Use the Pod's service account to reach the Kubernetes API (the scheduler runs in the cluster); otherwise config_file, $KUBECONFIG or ~/.kube/config.",
    }),
    config_file: optionalString({
      description:
        "Kubeconfig file the KubernetesExecutor uses when not in_cluster; unset means $KUBECONFIG or ~/.kube/config.",
    }),
    cluster_context: optionalString({
      description: "Context of the kubeconfig to use; unset means its current context.",
    }),
  },
  queue: {
    broker_url: string({
      default: "redis://127.0.0.1:6379/0",
      secret: true,
      description:
        "Redis the QueueExecutor and its workers share (redis:// or rediss:// for TLS; a password as redis://:PASSWORD@host:6379/0). Airflow's celery.broker_url.",
    }),
    key_prefix: string({
      default: "updraft",
      description:
        "Prefix of every Redis key the queue executor and workers use (several Updrafts may share one Redis).",
    }),
    tls_ca_file: optionalString({
      description:
        "PEM file of the CA that signed Redis's certificate (rediss://); unset means the system's CAs.",
    }),
    tls_cert_file: optionalString({
      description: "PEM client certificate for Redis with TLS client authentication (rediss://).",
    }),
    tls_key_file: optionalString({
      description: "PEM private key of tls_cert_file.",
    }),
    tls_reject_unauthorized: boolean({
      default: true,
      description: "Refuse a Redis certificate that does not verify (rediss://). false only for testing.",
    }),
  },
  worker: {
    queues: string({
      default: "default",
      description:
        "Comma-separated queues an `updraft worker` takes work from (a task's `queue`; Airflow's celery.default_queue).",
    }),
    concurrency: integer({
      default: 16,
      min: 1,
      description: "Tries one worker runs at once (Airflow's celery.worker_concurrency).",
    }),
    runner_processes: integer({
      default: 0,
      min: 0,
      description:
        "Warm runner processes a worker keeps for short tries (the pool still grows to concurrency for tries that mostly wait); 0: twice this machine's cores, shared among the workers alive on it.",
    }),
    heartbeat_interval: seconds({
      default: 5,
      description: "Seconds between a worker's heartbeats in Redis.",
    }),
    stale_after: seconds({
      default: 30,
      description:
        "Seconds without a heartbeat after which a worker counts as gone: its running tries are reported lost, it is listed offline.",
    }),
    drain_timeout: seconds({
      default: 600,
      description:
        "Seconds a worker given SIGTERM waits for its running tries before it kills them and exits (the chart's termination grace period should be longer).",
    }),
    server_port: integer({
      default: 8793,
      min: 0,
      description:
        "Port of the worker's HTTP server: /health for probes and /log/… so the API server can show logs of tries the worker ran (Airflow's worker_log_server_port); 0 turns it off.",
    }),
    server_url: optionalString({
      description:
        "URL the API server uses to reach this worker's server (logs of its tries), e.g. http://updraft-worker-0.updraft-worker:8793 in a StatefulSet; unset means http://<hostname>:<server_port>.",
    }),
    max_tasks: integer({
      default: 0,
      min: 0,
      description: "Tries after which a worker exits to be restarted (recycling); 0 never.",
    }),
  },
  triggerer: {
    capacity: integer({
      default: 1000,
      min: 1,
      description:
        "Triggers one triggerer runs at once (Airflow's triggerer.capacity); the rest wait for another triggerer or for room.",
    }),
    heartbeat_interval: seconds({
      default: 5,
      description: "Seconds between a triggerer's job heartbeats.",
    }),
    stale_after: seconds({
      default: 30,
      description:
        "Seconds without a heartbeat after which a triggerer counts as gone and other triggerers take its triggers over (Airflow's triggerer_health_check_threshold).",
    }),
    poll_interval: seconds({
      default: 1,
      description:
        "Seconds between a triggerer's checks for new, taken-over and cleared triggers; a deferral also wakes it at once.",
    }),
  },
  logging: {
    base_log_folder: path({
      default: "$UPDRAFT_HOME/logs",
      description: "Folder where task logs are written.",
    }),
  },
  dag_processor: {
    parsing_processes: integer({
      default: 2,
      min: 1,
      description: "DAG files evaluated in parallel.",
    }),
  },
  metrics: {
    statsd_on: boolean({
      default: false,
      description: "Send metrics to a StatsD server (the tutorial's statsd-exporter) with Airflow's names.",
    }),
    statsd_host: string({ default: "localhost", description: "Host of the StatsD server (UDP)." }),
    statsd_port: integer({
      default: 8125,
      min: 1,
      max: 65535,
      description: "UDP port of the StatsD server.",
    }),
    statsd_prefix: string({
      default: "airflow",
      description: 'Prefix of every metric name; "airflow" keeps dashboards built for Airflow working.',
    }),
    statsd_datadog_enabled: boolean({
      default: false,
      description: "Also send the variable parts of names (dag_id, task_id, pool, …) as DogStatsD tags.",
    }),
    statsd_datadog_tags: string({
      default: "",
      description: 'Tags added to every metric with DogStatsD, comma-separated ("env:prod,team:data").',
    }),
    prometheus_on: boolean({
      default: true,
      description:
        "Keep the metrics in this process's Prometheus registry and serve them at GET /metrics (API server).",
    }),
    prometheus_public: boolean({
      default: false,
      description:
        "Serve GET /metrics without authentication (otherwise it needs the metrics:read permission).",
    }),
  },
  traces: {
    otel_on: boolean({
      default: false,
      description:
        "Send OpenTelemetry traces (a DAG run as a trace, each try as a span) over OTLP/HTTP to otel_host:otel_port or otel_endpoint.",
    }),
    otel_host: string({
      default: "localhost",
      description: "Host of the OTLP/HTTP receiver (an OpenTelemetry Collector).",
    }),
    otel_port: integer({ default: 8889, min: 1, max: 65535, description: "Port of the OTLP/HTTP receiver." }),
    otel_ssl_active: boolean({ default: false, description: "Use https to reach otel_host:otel_port." }),
    otel_endpoint: string({
      default: "",
      description:
        'Full URL of the OTLP/HTTP traces endpoint ("https://collector:4318/v1/traces"); when set, otel_host, otel_port and otel_ssl_active are not used.',
    }),
    otel_service: string({
      default: "Airflow",
      description: "The service.name resource attribute of every span.",
    }),
  },
} as const;

type Settings = typeof SETTINGS;
export type SectionName = keyof Settings;

/** The loaded configuration: one typed object per section, plus where Updraft lives. */
export type UpdraftConfig = {
  /** `$UPDRAFT_HOME`: the root of the config file, embedded database, logs and DAGs by default. */
  readonly home: string;
  /** The TOML file that was read, or null when there was none. */
  readonly configFile: string | null;
} & {
  readonly [S in SectionName]: { readonly [K in keyof Settings[S]]: SettingValue<Settings[S][K]> };
};
