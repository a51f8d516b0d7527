// Copies the monitoring/ files the Helm chart installs into chart/files/: Helm's .Files.Get reads
// only files inside the chart, and copies (not symlinks) keep `helm package` portable.
// `node scripts/sync-chart-files.mjs` writes the copies; `--check` exits 1 naming each stale copy
// (packages/updraft/test/chart/files.test.ts runs the same check).
import { copyFileSync, existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** Each chart copy and its source, relative to the repository root. */
export const CHART_FILES = [
  { source: "monitoring/alerts.yml", copy: "chart/files/alerts.yml" },
  { source: "monitoring/grafana-dashboard.json", copy: "chart/files/grafana-dashboard.json" },
  { source: "monitoring/statsd-mapping.yml", copy: "chart/files/statsd-mapping.yml" },
];

/** The copies that differ from their source (or are missing). */
export function staleChartFiles() {
  return CHART_FILES.filter(({ source, copy }) => {
    const to = join(root, copy);
    return !existsSync(to) || !readFileSync(join(root, source)).equals(readFileSync(to));
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (process.argv.includes("--check")) {
    const stale = staleChartFiles();
    for (const f of stale) process.stderr.write(`${f.copy} differs from ${f.source}\n`);
    if (stale.length > 0) {
      process.stderr.write("Run `node scripts/sync-chart-files.mjs` to copy them.\n");
      process.exit(1);
    }
  } else {
    for (const { source, copy } of CHART_FILES) {
      copyFileSync(join(root, source), join(root, copy));
      process.stdout.write(`${source} -> ${copy}\n`);
    }
  }
}
