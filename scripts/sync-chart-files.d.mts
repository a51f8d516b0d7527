// Types of sync-chart-files.mjs for the chart tests.
export declare const CHART_FILES: readonly { source: string; copy: string }[];
/** The chart's copies of monitoring/ files that differ from their source (or are missing). */
export declare function staleChartFiles(): { source: string; copy: string }[];
