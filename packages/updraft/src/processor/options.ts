// Options of the DAG processor, with the defaults of their config keys.
import { noopMetrics, type Metrics } from "../metrics/metrics.js";
import type { ProcessorLogger } from "./worker-pool.js";
import { defaultCacheDir } from "../loader/paths.js";

export interface ProcessorOptions {
  /** Child processes evaluating files in parallel (`dag_processor.parsing_processes`). Default 2. */
  parsingProcesses?: number;
  /** Per-file time limit in seconds (`core.dag_file_processor_timeout`). Default 50. */
  timeoutSeconds?: number;
  /** Heap cap of each evaluation child in MB. Default 512. */
  memoryCapMb?: number;
  /** Evaluation children are replaced after this many files (ESM modules are never unloaded). Default 1000. */
  maxFilesPerChild?: number;
  /** Where transpiled files are cached. Default `$UPDRAFT_HOME/cache/dags`. */
  cacheDir?: string;
  /** Only evaluate files that mention `updraft` (`core.dag_discovery_safe_mode`). Default true. */
  safeMode?: boolean;
  /**
   * The executors core.executor lists: a DAG with a task naming another is an import error.
   * Unset: not checked (the serializer still refuses names that are no executor of Updraft).
   */
  executors?: readonly string[];
  logger?: ProcessorLogger;
  /** Where dag_processing.last_duration.<file> goes (default: nowhere). */
  metrics?: Metrics;
}

export type ResolvedProcessorOptions = Required<
  Omit<ProcessorOptions, "logger" | "metrics" | "executors">
> & {
  logger: ProcessorLogger | undefined;
  executors: readonly string[] | null;
  metrics: Metrics;
};

export const DEFAULT_TIMEOUT_SECONDS = 50;
export const DEFAULT_PARSING_PROCESSES = 2;
export const DEFAULT_MEMORY_CAP_MB = 512;

export function resolveProcessorOptions(options: ProcessorOptions = {}): ResolvedProcessorOptions {
  return {
    parsingProcesses: options.parsingProcesses ?? DEFAULT_PARSING_PROCESSES,
    timeoutSeconds: options.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS,
    memoryCapMb: options.memoryCapMb ?? DEFAULT_MEMORY_CAP_MB,
    maxFilesPerChild: options.maxFilesPerChild ?? 1000,
    cacheDir: options.cacheDir ?? defaultCacheDir(),
    safeMode: options.safeMode ?? true,
    logger: options.logger,
    executors: options.executors ?? null,
    metrics: options.metrics ?? noopMetrics,
  };
}
