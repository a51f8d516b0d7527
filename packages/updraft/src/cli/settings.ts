// What the `dags` commands need from the configuration (option > UPDRAFT__SECTION__KEY env >
// config file > default, via loadConfig).
import { join, resolve } from "node:path";
import { configSources, loadConfig, type UpdraftConfig } from "../config/index.js";
import { findStandalone } from "./forward.js";
import type { ProcessorOptions } from "../processor/index.js";
import { parseExecutorSetting } from "../executors/from-config.js";

/**
 * A setting that may not be declared in config/settings.ts yet (`core.dag_discovery_safe_mode`,
 * `dag_processor.evaluation_memory_mb`): used when present, otherwise the processor's default.
 */
function optionalSetting(config: UpdraftConfig, section: string, key: string): unknown {
  const sections = config as unknown as Record<string, Record<string, unknown> | undefined>;
  return sections[section]?.[key];
}

export interface DagsSettings {
  dagsFolder: string;
  processor: ProcessorOptions;
}

/** Loads the configuration; `dagsFolder` (the `--dags-folder` option) wins over `core.dags_folder`. */
export function dagsSettings(dagsFolder: string | undefined): DagsSettings {
  const config = loadConfig();
  const processor: ProcessorOptions = {
    timeoutSeconds: config.core.dag_file_processor_timeout,
    parsingProcesses: config.dag_processor.parsing_processes,
    cacheDir: join(config.home, "cache", "dags"),
    // A task naming an executor core.executor does not list is an import error, as in the engine.
    executors: parseExecutorSetting(config.core.executor),
  };
  const safeMode = optionalSetting(config, "core", "dag_discovery_safe_mode");
  if (typeof safeMode === "boolean") processor.safeMode = safeMode;
  const memory = optionalSetting(config, "dag_processor", "evaluation_memory_mb");
  if (typeof memory === "number") processor.memoryCapMb = memory;
  return {
    dagsFolder: resolve(dagsFolder ?? runningStandaloneDagsFolder(config) ?? config.core.dags_folder),
    processor,
  };
}

/**
 * The DAGs folder of a running `updraft standalone` of this UPDRAFT_HOME, when core.dags_folder
 * was not set: `npm start` passes --dags-folder, and a second terminal should see the same DAGs.
 */
function runningStandaloneDagsFolder(config: UpdraftConfig): string | undefined {
  if ((configSources(config).get("core.dags_folder") ?? "default") !== "default") return undefined;
  return findStandalone(config.home)?.dags_folder;
}
