export { parseDagFolder } from "./dag-bag.js";
export { DagFileProcessor } from "./dag-file-processor.js";
export type {
  DagBag,
  DagFileSource,
  ImportError,
  ParseStats,
  RefreshOptions,
  RefreshProgress,
  RefreshResult,
} from "./dag-file-processor.js";
export { discoverDagFiles, listCandidateFiles, looksLikeDagFile, IGNORE_FILE } from "./discover.js";
export type { CandidateFile } from "./discover.js";
export {
  resolveProcessorOptions,
  DEFAULT_TIMEOUT_SECONDS,
  DEFAULT_PARSING_PROCESSES,
  DEFAULT_MEMORY_CAP_MB,
} from "./options.js";
export type { ProcessorOptions, ResolvedProcessorOptions } from "./options.js";
export { defaultCacheDir, updraftHome, UPDRAFT_VERSION } from "../loader/paths.js";
export { Transpiler } from "../loader/transpile.js";
export type { TranspileResult, TranspileStats } from "../loader/transpile.js";
export { EvaluationPool } from "./worker-pool.js";
export type {
  EvaluationJob,
  EvaluationOutcome,
  EvaluationPoolOptions,
  ProcessorLogger,
} from "./worker-pool.js";
