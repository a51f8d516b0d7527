export { loadConfig, configSources } from "./load.js";
export type { LoadConfigOptions } from "./load.js";
export { listConfig, getConfigValue } from "./list.js";
export type { ConfigRow } from "./list.js";
export { SETTINGS } from "./settings.js";
export type { UpdraftConfig, SectionName } from "./settings.js";
export { settingEntries, HIDDEN } from "./registry.js";
export type { ConfigSource, SettingEntry } from "./registry.js";
export type { SettingDef, SettingKind } from "./setting.js";
