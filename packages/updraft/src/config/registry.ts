import { homedir } from "node:os";
import { resolve } from "node:path";
import { UpdraftError } from "../common/errors.js";
import { parseDuration } from "../common/duration.js";
import type { SettingDef } from "./setting.js";
import { SETTINGS } from "./settings.js";
import { suggest } from "./suggest.js";

export interface SettingEntry {
  readonly section: string;
  readonly key: string;
  readonly def: SettingDef<unknown>;
}

export const HIDDEN = "< hidden >";

export type ConfigSource = "default" | "file" | "env" | "option";

const ENTRIES: readonly SettingEntry[] = Object.entries(SETTINGS).flatMap(([section, keys]) =>
  Object.entries(keys).map(([key, def]) => ({ section, key, def: def as SettingDef<unknown> })),
);

/** All declared settings in declaration order. */
export function settingEntries(): readonly SettingEntry[] {
  return ENTRIES;
}

/** The setting a `section`/`key` names (aliases included), or undefined. */
export function findSetting(section: string, key: string): SettingEntry | undefined {
  const s = section.toLowerCase();
  const k = key.toLowerCase();
  return ENTRIES.find((e) => e.section === s && (e.key === k || e.def.aliases.includes(k)));
}

/** `Did you mean …?` for a mistyped `section.key`, or "" when nothing is close. */
export function suggestSetting(section: string, key: string): string {
  const names = ENTRIES.flatMap((e) => [e.key, ...e.def.aliases].map((k) => `${e.section}.${k}`));
  const close = suggest(`${section}.${key}`.toLowerCase(), names);
  return close.length > 0 ? ` Did you mean ${close.join(" or ")}?` : "";
}

const TRUE = new Set(["true", "t", "yes", "y", "on", "1"]);
const FALSE = new Set(["false", "f", "no", "n", "off", "0"]);

function coerce(def: SettingDef<unknown>, raw: unknown, home: string): unknown {
  if (typeof raw === "bigint") raw = Number(raw);
  switch (def.kind) {
    case "integer":
      return typeof raw === "string" && /^\s*[+-]?\d+\s*$/.test(raw) ? Number(raw) : raw;
    case "boolean":
      if (typeof raw === "string") {
        const t = raw.trim().toLowerCase();
        if (TRUE.has(t)) return true;
        if (FALSE.has(t)) return false;
      }
      return raw;
    case "seconds":
      if (typeof raw === "string") {
        const t = raw.trim();
        if (/^\d+(\.\d+)?$/.test(t)) return Number(t);
        try {
          return parseDuration(t) / 1000;
        } catch {
          return raw;
        }
      }
      return raw;
    case "optional-string":
      return raw === "" ? null : raw;
    case "path":
      return typeof raw === "string" && raw.trim() !== "" ? expandPath(raw.trim(), home) : raw;
    case "string":
      return raw;
  }
}

/** Expands `~` and `$UPDRAFT_HOME` / `${UPDRAFT_HOME}`, and makes the path absolute. */
export function expandPath(p: string, home: string): string {
  const withHome = p.replace(/\$\{UPDRAFT_HOME\}|\$UPDRAFT_HOME(?![A-Za-z0-9_])/g, home);
  const withTilde = withHome === "~" || withHome.startsWith("~/") ? homedir() + withHome.slice(1) : withHome;
  return resolve(withTilde);
}

/** Where a value came from, in words, for error messages. */
export function describeSource(entry: SettingEntry, source: ConfigSource, file: string | null): string {
  switch (source) {
    case "env":
      return `environment variable UPDRAFT__${entry.section.toUpperCase()}__${entry.key.toUpperCase()}`;
    case "file":
      return `[${entry.section}] ${entry.key} in ${file ?? "the config file"}`;
    case "option":
      return `the option ${entry.section}.${entry.key}`;
    case "default":
      return "the default";
  }
}

/** Coerces and validates one raw value, or throws CONFIG_INVALID naming the key, value and type. */
export function parseSettingValue(entry: SettingEntry, raw: unknown, home: string, where: string): unknown {
  const value = coerce(entry.def, raw, home);
  const result = entry.def.schema.safeParse(value);
  if (result.success) return result.data;
  const shown = entry.def.secret ? HIDDEN : JSON.stringify(raw);
  throw new UpdraftError(
    "CONFIG_INVALID",
    `Invalid value for ${entry.section}.${entry.key} (from ${where}): ${shown} is not ${entry.def.expected}. Fix or remove it.`,
    {
      details: {
        section: entry.section,
        key: entry.key,
        value: entry.def.secret ? HIDDEN : raw,
        expected: entry.def.expected,
        source: where,
      },
    },
  );
}
