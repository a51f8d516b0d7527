// What the `dags` commands need from the configuration (option > UPDRAFT__SECTION__KEY env >
// config file > default, via loadConfig).
import { join, resolve } from "node:path";
import { loadConfig, type UpdraftConfig } from "../config/index.js";
import type { ProcessorOptions } from "../processor/index.js";

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
  };
  const safeMode = optionalSetting(config, "core", "dag_discovery_safe_mode");
  if (typeof safeMode === "boolean") processor.safeMode = safeMode;
  const memory = optionalSetting(config, "dag_processor", "evaluation_memory_mb");
  if (typeof memory === "number") processor.memoryCapMb = memory;
  return { dagsFolder: resolve(dagsFolder ?? config.core.dags_folder), processor };
}
