// An in-process engine (API, scheduler, DAG processor, and a triggerer when asked) over a fresh
// home with the given DAG files, as the end-to-end tests of scheduling, deferral, assets,
// metrics and traces start it. The database is an in-memory PGlite unless the test opens one.
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import pino from "pino";
import { startEngine, type Engine, type EngineParts } from "../src/cli/engine.js";
import { loadConfig, type UpdraftConfig } from "../src/config/index.js";
import { generateFernetKey, type Database } from "../src/db/index.js";
import { openTestPGlite } from "./db-testing.js";
import { tempDir } from "./helpers.js";

export interface TestEngine {
  engine: Engine;
  database: Database;
  config: UpdraftConfig;
  home: string;
  /** The DAGs folder, `<home>/dags`. */
  dags: string;
  /** Stops the engine, closes the database and removes the home. */
  stop(): Promise<void>;
}

export async function startTestEngine(o: {
  /** Prefix of the temporary home's name. */
  name: string;
  /** Use this (temporary) home instead, for DAG files that name paths in it before it starts. */
  home?: string;
  /** Files to write under the DAGs folder: relative path → text. */
  files?: Record<string, string>;
  overrides?: Record<string, unknown>;
  env?: Record<string, string>;
  /** Opens the database for the config (default: a fresh in-memory PGlite). */
  openDatabase?: (config: UpdraftConfig) => Promise<Database>;
  /** Runs on the migrated database before the engine starts. */
  seed?: (database: Database) => Promise<void>;
  parts?: Partial<EngineParts>;
  logLevel?: "silent" | "warn";
  /** Return once the first parse of the DAGs folder is written (default true). */
  awaitFirstParse?: boolean;
}): Promise<TestEngine> {
  const home = o.home ?? tempDir(`updraft-${o.name}-`);
  const dags = join(home, "dags");
  mkdirSync(dags, { recursive: true });
  for (const [path, text] of Object.entries(o.files ?? {})) {
    mkdirSync(dirname(join(dags, path)), { recursive: true });
    writeFileSync(join(dags, path), text);
  }
  const config = loadConfig({
    home,
    env: o.env ?? {},
    overrides: {
      "core.fernet_key": generateFernetKey(),
      "logging.base_log_folder": join(home, "logs"),
      ...o.overrides,
    },
  });
  const database = await (o.openDatabase?.(config) ?? openTestPGlite());
  try {
    await o.seed?.(database);
    const engine = await startEngine({
      config,
      dagsFolder: dags,
      database,
      parts: { api: true, scheduler: true, processor: true, ...o.parts },
      logger: pino({ level: o.logLevel ?? "silent" }),
      secretKey: randomBytes(32).toString("base64url"),
      port: 0,
      host: "127.0.0.1",
      awaitFirstParse: o.awaitFirstParse ?? true,
    });
    return {
      engine,
      database,
      config,
      home,
      dags,
      async stop() {
        await engine.stop();
        await database.close();
        rmSync(home, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await database.close();
    throw err;
  }
}
