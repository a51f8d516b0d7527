// Files `updraft standalone` keeps in UPDRAFT_HOME: generated secrets (so a restart keeps
// encrypted connections readable and tokens valid) and standalone.json, which tells CLI commands
// in other terminals where the running server is (PGlite allows one process per data dir).
import { randomBytes } from "node:crypto";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadConfig, type UpdraftConfig } from "../config/index.js";
import { generateFernetKey } from "../db/index.js";

export interface StandaloneSecrets {
  secret_key: string;
  fernet_key: string;
  api_token: string;
}

function writePrivate(file: string, value: unknown): void {
  writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/** Reads the standalone secrets, generating any that are missing. */
export function standaloneSecrets(home: string): StandaloneSecrets {
  mkdirSync(home, { recursive: true });
  const file = join(home, "standalone-secrets.json");
  let current: Partial<StandaloneSecrets> = {};
  try {
    current = JSON.parse(readFileSync(file, "utf8")) as Partial<StandaloneSecrets>;
  } catch {
    // First start: generate below.
  }
  const secrets: StandaloneSecrets = {
    secret_key: current.secret_key ?? randomBytes(32).toString("base64url"),
    fernet_key: current.fernet_key ?? generateFernetKey(),
    api_token: current.api_token ?? randomBytes(24).toString("base64url"),
  };
  if (JSON.stringify(secrets) !== JSON.stringify(current)) writePrivate(file, secrets);
  return secrets;
}

/** Announces the running server to CLI commands in other terminals. */
export function writeStandaloneInfo(
  home: string,
  info: { pid: number; url: string; token: string; dags_folder: string },
): () => void {
  const file = join(home, "standalone.json");
  writePrivate(file, info);
  return () => rmSync(file, { force: true });
}

/**
 * The configuration for CLI commands: when no `core.fernet_key` is configured but standalone
 * generated one, use it, so connections written by standalone stay readable by the CLI (also
 * when a command is forwarded into the server, or runs after standalone stopped).
 */
export function cliConfig(): UpdraftConfig {
  const config = loadConfig();
  if (config.core.fernet_key) return config;
  try {
    const secrets = JSON.parse(
      readFileSync(join(config.home, "standalone-secrets.json"), "utf8"),
    ) as Partial<StandaloneSecrets>;
    if (secrets.fernet_key) return loadConfig({ overrides: { "core.fernet_key": secrets.fernet_key } });
  } catch {
    // No standalone secrets: the configuration as it is.
  }
  return config;
}
