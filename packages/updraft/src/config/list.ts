import { UpdraftError } from "../common/errors.js";
import { configSources } from "./load.js";
import { HIDDEN, findSetting, settingEntries, suggestSetting, type ConfigSource } from "./registry.js";
import type { UpdraftConfig } from "./settings.js";

export interface ConfigRow {
  readonly section: string;
  readonly key: string;
  /** The value; a set secret is "< hidden >" unless secrets were asked for. */
  readonly value: unknown;
  readonly source: ConfigSource;
  readonly description: string;
  readonly secret: boolean;
}

function read(config: UpdraftConfig, section: string, key: string): unknown {
  const values = (config as unknown as Record<string, Record<string, unknown> | undefined>)[section];
  return values?.[key];
}

/**
 * Every setting with its value and source, in declaration order, for `updraft config list` and
 * the API. Secrets that are set show as "< hidden >" unless `includeSecrets` is true.
 */
export function listConfig(config: UpdraftConfig, options: { includeSecrets?: boolean } = {}): ConfigRow[] {
  const sources = configSources(config);
  return settingEntries().map(({ section, key, def }) => {
    const value = read(config, section, key);
    const hide = def.secret && options.includeSecrets !== true && value !== null && value !== undefined;
    return {
      section,
      key,
      value: hide ? HIDDEN : value,
      source: sources.get(`${section}.${key}`) ?? "default",
      description: def.description,
      secret: def.secret,
    };
  });
}

/**
 * The value of one setting by name (aliases accepted). Throws CONFIG_KEY_UNKNOWN, with close
 * names, for a setting that does not exist.
 */
export function getConfigValue(config: UpdraftConfig, section: string, key: string): unknown {
  const entry = findSetting(section, key);
  if (entry === undefined) {
    throw new UpdraftError(
      "CONFIG_KEY_UNKNOWN",
      `There is no setting ${section}.${key}.${suggestSetting(section, key)} Run \`updraft config list\` to see every setting.`,
      { details: { section, key } },
    );
  }
  return read(config, entry.section, entry.key);
}
