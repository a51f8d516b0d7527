import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { parse as parseToml } from "smol-toml";
import { UpdraftError } from "../common/errors.js";
import {
  describeSource,
  findSetting,
  parseSettingValue,
  settingEntries,
  suggestSetting,
  type ConfigSource,
  type SettingEntry,
} from "./registry.js";
import type { UpdraftConfig } from "./settings.js";

export interface LoadConfigOptions {
  /** `$UPDRAFT_HOME`; defaults to env `UPDRAFT_HOME`, then `~/updraft`. */
  home?: string;
  /** Environment to read `UPDRAFT_HOME` and `UPDRAFT__SECTION__KEY` from; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
  /** Explicit values, highest precedence: `{ "core.parallelism": 8 }` or `{ core: { parallelism: 8 } }`. */
  overrides?: Record<string, unknown>;
}

type Layer = Map<SettingEntry, { raw: unknown; canonical: boolean; where: string }>;

const SOURCES = new WeakMap<object, ReadonlyMap<string, ConfigSource>>();

/** Where each value of a loaded config came from ("section.key" → source). */
export function configSources(config: UpdraftConfig): ReadonlyMap<string, ConfigSource> {
  return SOURCES.get(config) ?? new Map();
}

function unknownKey(section: string, key: string, where: string): UpdraftError {
  return new UpdraftError(
    "CONFIG_INVALID",
    `Unknown setting ${section}.${key} in ${where}.${suggestSetting(section, key)} Run \`updraft config list\` to see every setting.`,
    { details: { section, key, source: where } },
  );
}

function put(layer: Layer, section: string, key: string, raw: unknown, where: string): void {
  const entry = findSetting(section, key);
  if (entry === undefined) throw unknownKey(section, key, where);
  const canonical = entry.key === key.toLowerCase();
  const existing = layer.get(entry);
  if (existing?.canonical === true && !canonical) return;
  layer.set(entry, { raw, canonical, where });
}

function readFileLayer(file: string): Layer | null {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new UpdraftError("CONFIG_INVALID", `Cannot read the config file ${file}: ${String(err)}`, {
      cause: err,
    });
  }
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text);
  } catch (err) {
    throw new UpdraftError(
      "CONFIG_INVALID",
      `The config file ${file} is not valid TOML: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err, details: { file } },
    );
  }
  const layer: Layer = new Map();
  for (const [section, table] of Object.entries(doc)) {
    if (typeof table !== "object" || table === null || Array.isArray(table) || table instanceof Date) {
      throw new UpdraftError(
        "CONFIG_INVALID",
        `${file}: "${section}" must be a [section] table (for example [core] then parallelism = 32).`,
        { details: { file, section } },
      );
    }
    for (const [key, raw] of Object.entries(table)) put(layer, section, key, raw, file);
  }
  return layer;
}

function readEnvLayer(env: NodeJS.ProcessEnv): Layer {
  const layer: Layer = new Map();
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("UPDRAFT__") || raw === undefined) continue;
    const parts = name.slice("UPDRAFT__".length).split("__");
    const [section, key] = parts;
    if (parts.length !== 2 || section === undefined || key === undefined) {
      throw new UpdraftError(
        "CONFIG_INVALID",
        `Environment variable ${name} is not of the form UPDRAFT__SECTION__KEY. Rename or unset it.`,
        { details: { variable: name } },
      );
    }
    put(layer, section.toLowerCase(), key.toLowerCase(), raw, `environment variable ${name}`);
  }
  return layer;
}

function readOverrideLayer(overrides: Record<string, unknown>): Layer {
  const layer: Layer = new Map();
  for (const [name, value] of Object.entries(overrides)) {
    const dot = name.indexOf(".");
    if (dot > 0) {
      put(layer, name.slice(0, dot), name.slice(dot + 1), value, `the option ${name}`);
    } else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
      for (const [key, v] of Object.entries(value)) put(layer, name, key, v, `the option ${name}.${key}`);
    } else {
      throw unknownKey(name, "", "the options");
    }
  }
  return layer;
}

/**
 * Loads the configuration with precedence: explicit option > env `UPDRAFT__SECTION__KEY` >
 * `$UPDRAFT_HOME/updraft.toml` (or `$UPDRAFT_CONFIG`) > default. Throws CONFIG_INVALID naming
 * `section.key`, the bad value and the expected type.
 *
 * @example
 * ```ts
 * const config = loadConfig({ overrides: { "core.parallelism": 8 } });
 * config.core.parallelism; // 8
 * ```
 */
export function loadConfig(options: LoadConfigOptions = {}): UpdraftConfig {
  const env = options.env ?? process.env;
  const home = resolve(options.home ?? nonEmpty(env["UPDRAFT_HOME"]) ?? join(homedir(), "updraft"));
  const file = resolve(nonEmpty(env["UPDRAFT_CONFIG"]) ?? join(home, "updraft.toml"));
  const fileLayer = readFileLayer(file);
  const layers: [ConfigSource, Layer | null][] = [
    ["option", readOverrideLayer(options.overrides ?? {})],
    ["env", readEnvLayer(env)],
    ["file", fileLayer],
  ];
  const sections: Record<string, Record<string, unknown>> = {};
  const sources = new Map<string, ConfigSource>();
  for (const entry of settingEntries()) {
    let chosen: { value: unknown; source: ConfigSource } | undefined;
    for (const [source, layer] of layers) {
      const hit = layer?.get(entry);
      if (hit === undefined) continue;
      // Every given value is validated, even one a higher layer overrides: a typo never hides.
      const value = parseSettingValue(entry, hit.raw, home, hit.where);
      chosen ??= { value, source };
    }
    chosen ??= {
      value: parseSettingValue(entry, entry.def.default, home, describeSource(entry, "default", null)),
      source: "default",
    };
    (sections[entry.section] ??= {})[entry.key] = chosen.value;
    sources.set(`${entry.section}.${entry.key}`, chosen.source);
  }
  for (const s of Object.values(sections)) Object.freeze(s);
  const config = Object.freeze({ home, configFile: fileLayer === null ? null : file, ...sections });
  SOURCES.set(config, sources);
  return config as unknown as UpdraftConfig;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === "" ? undefined : s;
}
