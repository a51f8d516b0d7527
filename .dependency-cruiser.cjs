// Import direction of ARCHITECTURE.md: common ← sdk ← model ← (config) ← db ← (scheduler, api,
// processor); runner depends on sdk and model, never on db. `npm test` runs this check.
const S = "^packages/updraft/src/";
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "Import cycles make start-up order fragile.",
      from: {},
      to: { circular: true },
    },
    {
      name: "common-is-the-bottom",
      severity: "error",
      from: { path: `${S}common/` },
      to: { path: `${S}(?!common/)` },
    },
    {
      name: "sdk-imports-only-common",
      severity: "error",
      comment:
        "The SDK is what DAG files import: it must stay small and free of server code. kube/ (client helpers for the Kubernetes operators) and hooks/ (pg, HTTP, SMTP for hooks and operators) are imported lazily.",
      from: { path: `${S}sdk/` },
      to: { path: `${S}(?!sdk/|common/|kube/|hooks/)` },
    },
    {
      name: "hooks-is-low",
      severity: "error",
      comment:
        "What hooks and operators use to speak to external systems (issue 13): it reads settings and shares the notifier's SMTP sender, and knows no component.",
      from: { path: `${S}hooks/` },
      to: { path: `${S}(?!hooks/|common/|config/|notify/smtp)` },
    },
    {
      name: "kube-is-low",
      severity: "error",
      comment: "Kubernetes client helpers shared by the KubernetesExecutor and the operators (issue 10).",
      from: { path: `${S}kube/` },
      to: { path: `${S}(?!kube/|common/)` },
    },
    {
      name: "queue-is-low",
      severity: "error",
      comment:
        "Redis connections, key names and the workers' registry, shared by the QueueExecutor, the worker and the API server (issue 12).",
      from: { path: `${S}queue/` },
      to: { path: `${S}(?!queue/|common/|config/)` },
    },
    {
      name: "workers-never-touch-db",
      severity: "error",
      comment:
        "`updraft worker` talks to Redis and the execution API only (issue 12): it runs workloads with the LocalExecutor's runners.",
      from: { path: `${S}worker/` },
      to: { path: `${S}(db|services|scheduler|api|processor|events|cli)/` },
    },
    {
      name: "executors-never-touch-db",
      severity: "error",
      comment: "Executors start runners and report what happened to them (ARCHITECTURE.md).",
      from: { path: `${S}executors/` },
      to: { path: `${S}(db|services|scheduler|api|processor|events)/` },
    },
    {
      name: "model-is-pure",
      severity: "error",
      from: { path: `${S}model/` },
      to: { path: `${S}(?!model/|sdk/|common/)` },
    },
    {
      name: "config-is-low",
      severity: "error",
      from: { path: `${S}config/` },
      to: { path: `${S}(?!config/|common/)` },
    },
    {
      name: "db-below-components",
      severity: "error",
      from: { path: `${S}db/` },
      to: { path: `${S}(scheduler|api|processor|executors|runner|cli)/` },
    },
    {
      name: "runner-never-touches-db",
      severity: "error",
      comment: "Task runners talk to the execution API over HTTP only (ARCHITECTURE.md boundary 2).",
      from: { path: `${S}runner/` },
      to: { path: `${S}(db|events|services|scheduler|api|processor|cli|executors)/` },
    },
    {
      name: "scheduler-never-runs-user-code",
      severity: "error",
      comment: "The scheduler works from serialized DAGs only (ARCHITECTURE.md boundary 1).",
      from: { path: `${S}scheduler/` },
      to: { path: `${S}(processor|runner|api|cli)/|${S}sdk/(dag|taskflow|operators)` },
    },
    {
      name: "triggerer-runs-trigger-code-only",
      severity: "error",
      comment:
        "The triggerer imports trigger modules, never DAG files: no DAG processor, runner, scheduler or API (decision 0030).",
      from: { path: `${S}triggerer/` },
      to: {
        path: `${S}(processor|runner|scheduler|api|cli|executors)/|${S}sdk/(dag|taskflow|operators/(?!sql-text))`,
      },
    },
    {
      name: "notify-below-components",
      comment:
        "Notifications are sent beside the scheduler from the database's outbox; they know no component.",
      from: { path: `${S}notify/` },
      to: { path: `${S}(scheduler|api|processor|executors|runner|cli)/` },
    },
    {
      name: "client-stands-alone",
      comment:
        "The typed REST client runs in browsers (the UI) and the CLI: it imports nothing of the server.",
      from: { path: `${S}client/` },
      to: { path: `${S}(?!client/)` },
    },
    {
      name: "metrics-is-low",
      severity: "error",
      comment: "Every component emits metrics: the sinks know only the settings (issue 11).",
      from: { path: `${S}metrics/` },
      to: { path: `${S}(?!metrics/|common/|config/)` },
    },
    {
      name: "traces-is-low",
      severity: "error",
      comment:
        "Run and try spans are reported from the scheduler and the API server: the exporter knows only the settings (issue 11).",
      from: { path: `${S}traces/` },
      to: { path: `${S}(?!traces/|common/|config/)` },
    },
    {
      name: "loader-is-low",
      severity: "error",
      comment: "Transpiling DAG files is shared by the processor and the runner.",
      from: { path: `${S}loader/` },
      to: { path: `${S}(?!loader/|common/)` },
    },
    {
      name: "events-below-components",
      severity: "error",
      from: { path: `${S}events/` },
      to: { path: `${S}(scheduler|api|processor|executors|runner|cli|services)/` },
    },
    {
      name: "services-below-api-and-scheduler",
      severity: "error",
      comment: "Services are shared by the API server, the scheduler and the CLI.",
      from: { path: `${S}services/` },
      to: { path: `${S}(scheduler|api|runner|cli|executors)/` },
    },
    {
      name: "components-do-not-import-cli",
      severity: "error",
      from: { path: `${S}(?!cli/)` },
      to: { path: `${S}cli/` },
    },
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "\\.test(-d)?\\.ts$" },
    tsPreCompilationDeps: false,
    tsConfig: { fileName: "tsconfig.depcruise.json" },
  },
};
