// A small Updraft cluster for crash and fault tests: real `updraft` processes (the built binary)
// on a throwaway PostgreSQL database, a temp UPDRAFT_HOME and DAGs folder, and a `pg` client for
// looking at (never changing) the metadata the components write.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { describe, it } from "vitest";
import { createThrowawayDatabase, postgresProblem, type ThrowawayDatabase } from "../db-testing.js";
import { REPO, type CliResult } from "../e2e/helpers.js";

const PACKAGE = join(REPO, "packages", "updraft");

function distSignature(dist: string): string {
  const parts: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else parts.push(`${p}:${st.size}:${st.mtimeMs}`);
    }
  };
  walk(dist);
  return parts.join("\n");
}

let privateBin: string | null = null;
let privateRoot: string | null = null;

/**
 * A private copy of the built package (bin + dist, with the repository's node_modules linked), so
 * that a `npm run build` elsewhere during a long crash test cannot pull files from under the
 * runners it forks. Made once per cluster (removed by `Cluster.close`), from a dist that did not
 * change while it was copied.
 */
export function builtBinary(): string {
  if (privateBin !== null) return privateBin;
  const root = mkdtempSync(join(tmpdir(), "updraft-reliability-build-"));
  const pkg = join(root, "packages", "updraft");
  const dist = join(PACKAGE, "dist");
  for (let attempt = 0; ; attempt++) {
    if (existsSync(join(dist, "cli", "main.js")) && existsSync(join(dist, "runner", "main.js"))) {
      const before = distSignature(dist);
      rmSync(pkg, { recursive: true, force: true });
      mkdirSync(pkg, { recursive: true });
      cpSync(dist, join(pkg, "dist"), { recursive: true });
      if (distSignature(dist) === before) break;
    }
    if (attempt >= 50) throw new Error(`${dist} is missing or keeps changing: run \`npm run build\` first.`);
    spawnSync("sleep", ["0.2"]);
  }
  cpSync(join(PACKAGE, "bin"), join(pkg, "bin"), { recursive: true });
  cpSync(join(PACKAGE, "package.json"), join(pkg, "package.json"));
  symlinkSync(join(REPO, "node_modules"), join(root, "node_modules"));
  if (existsSync(join(PACKAGE, "node_modules")))
    symlinkSync(join(PACKAGE, "node_modules"), join(pkg, "node_modules"));
  privateRoot = root;
  privateBin = join(pkg, "bin", "updraft.js");
  return privateBin;
}

/** Runs `updraft …` (the private build) to completion. */
export function updraft(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): CliResult {
  const r = spawnSync(process.execPath, [builtBinary(), ...args], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    timeout: timeoutMs,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A long-running `updraft …` process whose output is collected (as e2e's Daemon, on the private build). */
export class Daemon {
  readonly child: ChildProcess;
  readonly args: string[];
  output = "";
  constructor(args: string[], env: NodeJS.ProcessEnv) {
    this.args = args;
    this.child = spawn(process.execPath, [builtBinary(), ...args], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (d: Buffer) => (this.output += d.toString()));
    this.child.stderr?.on("data", (d: Buffer) => (this.output += d.toString()));
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves with the first match of `pattern` in the output, or rejects after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs = 60_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const tick = (): void => {
        const m = this.output.match(pattern);
        if (m) return resolve(m);
        if (this.child.exitCode !== null || this.child.signalCode !== null)
          return reject(
            new Error(`process exited (${this.child.exitCode}) before ${pattern}:\n${this.output}`),
          );
        if (Date.now() - started > timeoutMs)
          return reject(new Error(`timed out waiting for ${pattern}:\n${this.output}`));
        setTimeout(tick, 25);
      };
      tick();
    });
  }

  /** SIGKILL, resolved once the process is gone. */
  kill(): Promise<void> {
    return new Promise((resolve) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return resolve();
      this.child.once("exit", () => resolve());
      this.child.kill("SIGKILL");
    });
  }
}

export const SECRET = "reliability-secret-key-0123456789";

/** Fast settings so that lost work is found in seconds, not minutes. */
export const FAST_SETTINGS: NodeJS.ProcessEnv = {
  UPDRAFT__SCHEDULER__SCHEDULER_HEARTBEAT_SEC: "1",
  UPDRAFT__SCHEDULER__SCHEDULER_HEALTH_CHECK_THRESHOLD: "6",
  UPDRAFT__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT: "3",
  UPDRAFT__SCHEDULER__DAG_DIR_LIST_INTERVAL: "600",
  UPDRAFT__CORE__DAGS_ARE_PAUSED_AT_CREATION: "false",
  UPDRAFT__DATABASE__SQL_ALCHEMY_POOL_SIZE: "5",
};

/**
 * Declares `body` as a describe block that needs PostgreSQL: under CI=true an unreachable server
 * is a failing test, elsewhere the block is skipped with a warning saying why.
 */
export async function describeWithPostgres(name: string, body: () => void): Promise<void> {
  const problem = await postgresProblem();
  if (problem === null) {
    describe(name, body);
    return;
  }
  if (process.env["CI"] === "true") {
    describe(name, () => {
      it("needs PostgreSQL", () => {
        throw new Error(`${problem}. CI must run the reliability tests against PostgreSQL.`);
      });
    });
    return;
  }
  console.warn(
    `SKIPPED ${name}: ${problem}. Start PostgreSQL or set UPDRAFT_TEST_POSTGRES_URL to run the reliability tests.`,
  );
  // Outside CI only, with the reason printed above: no PostgreSQL on this laptop.
  describe.skip(name, body);
}

export interface TiRow {
  task_id: string;
  state: string | null;
  try_number: number;
  max_tries: number;
  pid: number | null;
  queued_by_job_id: number | null;
}

export interface HistoryRow {
  task_id: string;
  try_number: number;
  state: string | null;
  error: string | null;
  end_date: Date | null;
}

export class Cluster {
  readonly home = mkdtempSync(join(tmpdir(), "updraft-reliability-"));
  readonly dagsFolder = join(this.home, "dags");
  readonly daemons: Daemon[] = [];
  readonly env: NodeJS.ProcessEnv;
  apiUrl = "";
  private client: pg.Client | null = null;
  /** Runner pids seen in task instance rows: runners outlive a killed scheduler, so cleanup ends them. */
  private readonly runnerPids = new Set<number>();

  private constructor(
    readonly database: ThrowawayDatabase,
    extraEnv: NodeJS.ProcessEnv,
  ) {
    mkdirSync(this.dagsFolder, { recursive: true });
    this.env = {
      UPDRAFT_HOME: this.home,
      UPDRAFT__CORE__DAGS_FOLDER: this.dagsFolder,
      UPDRAFT__DATABASE__SQL_ALCHEMY_CONN: database.url,
      UPDRAFT__API__SECRET_KEY: SECRET,
      ...FAST_SETTINGS,
      ...extraEnv,
    };
  }

  /** A throwaway database, migrated with `updraft db migrate`. */
  static async create(extraEnv: NodeJS.ProcessEnv = {}): Promise<Cluster> {
    const database = await createThrowawayDatabase();
    const cluster = new Cluster(database, extraEnv);
    cluster.cli(["db", "migrate"]);
    return cluster;
  }

  /** Runs `updraft …` and throws with its output when it fails. */
  cli(args: string[], env: NodeJS.ProcessEnv = {}): CliResult {
    const r = updraft(args, { ...this.env, ...env });
    if (r.code !== 0)
      throw new Error(`updraft ${args.join(" ")} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r;
  }

  writeDag(fileName: string, source: string): void {
    writeFileSync(join(this.dagsFolder, fileName), source);
  }

  /** Parses the DAGs folder into the database (`updraft dags reserialize`). */
  reserialize(): void {
    const r = this.cli(["dags", "reserialize", "--dags-folder", this.dagsFolder]);
    if (!/\b0 import error/.test(r.stdout + r.stderr))
      throw new Error(`reserialize reported import errors:\n${r.stdout}\n${r.stderr}`);
  }

  /** Starts `updraft api-server` on a free port. */
  async startApiServer(): Promise<Daemon> {
    const port = await freePort();
    this.apiUrl = `http://127.0.0.1:${port}`;
    const d = new Daemon(["api-server", "--port", String(port), "--host", "127.0.0.1"], this.env);
    this.daemons.push(d);
    await d.waitFor(/api-server is running/, 30_000);
    return d;
  }

  /**
   * Starts `updraft scheduler` (LocalExecutor) pointed at the API server; `env` is added to its
   * environment, which its runners inherit. Does not wait for the API server to be up.
   */
  async startScheduler(env: NodeJS.ProcessEnv = {}): Promise<Daemon> {
    if (this.apiUrl === "") this.apiUrl = `http://127.0.0.1:${await freePort()}`;
    const d = new Daemon(["scheduler"], {
      ...this.env,
      UPDRAFT__CORE__EXECUTION_API_SERVER_URL: this.apiUrl,
      ...env,
    });
    this.daemons.push(d);
    await d.waitFor(/scheduler is running/, 30_000);
    return d;
  }

  /** API server and scheduler, started side by side. */
  async start(schedulerEnv: NodeJS.ProcessEnv = {}): Promise<{ api: Daemon; scheduler: Daemon }> {
    const port = await freePort();
    this.apiUrl = `http://127.0.0.1:${port}`;
    const api = new Daemon(["api-server", "--port", String(port), "--host", "127.0.0.1"], this.env);
    this.daemons.push(api);
    const [, scheduler] = await Promise.all([
      api.waitFor(/api-server is running/, 30_000),
      this.startScheduler(schedulerEnv),
    ]);
    return { api, scheduler };
  }

  trigger(dagId: string, runId: string): void {
    this.cli(["dags", "trigger", dagId, "--run-id", runId]);
  }

  async db(): Promise<pg.Client> {
    if (this.client !== null) return this.client;
    const c = new pg.Client({ connectionString: this.database.url });
    c.on("error", () => undefined);
    await c.connect();
    this.client = c;
    return c;
  }

  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    try {
      return (await (await this.db()).query<R>(text, values)).rows;
    } catch (err) {
      // Our own connection may be one of those a test terminated: reconnect once.
      this.client?.end().catch(() => undefined);
      this.client = null;
      if (!isConnectionLoss(err)) throw err;
      return (await (await this.db()).query<R>(text, values)).rows;
    }
  }

  async runState(dagId: string, runId: string): Promise<string | null> {
    const rows = await this.query<{ state: string }>(
      "select state from dag_run where dag_id = $1 and run_id = $2",
      [dagId, runId],
    );
    return rows[0]?.state ?? null;
  }

  async tis(dagId: string, runId: string): Promise<TiRow[]> {
    const rows = await this.query<TiRow>(
      `select task_id, state, try_number, max_tries, pid, queued_by_job_id
       from task_instance where dag_id = $1 and run_id = $2 order by task_id`,
      [dagId, runId],
    );
    for (const r of rows) if (r.pid !== null) this.runnerPids.add(r.pid);
    return rows;
  }

  async history(dagId: string, runId: string): Promise<HistoryRow[]> {
    return this.query<HistoryRow>(
      `select task_id, try_number, state, error, end_date from task_instance_history
       where dag_id = $1 and run_id = $2 order by task_id, try_number`,
      [dagId, runId],
    );
  }

  /** Task instance states of a run, counted ("success=12 queued=3 …"), for failure messages. */
  async summary(dagId: string, runId: string): Promise<string> {
    const rows = await this.query<{ state: string | null; try_number: number; n: number }>(
      `select state, try_number, count(*)::int as n from task_instance where dag_id = $1 and run_id = $2
       group by 1, 2 order by 1, 2`,
      [dagId, runId],
    );
    return rows.map((r) => `${r.state ?? "none"}(try ${r.try_number})=${r.n}`).join(" ");
  }

  /** Remembers a runner pid so that cleanup ends it if it is still alive. */
  trackPid(pid: number): void {
    this.runnerPids.add(pid);
  }

  /** Output of every component, for failure messages. */
  logs(maxChars = 6000): string {
    return this.daemons
      .map((d, i) => `--- process ${i} (updraft ${d.args.join(" ")}) ---\n${d.output.slice(-maxChars)}`)
      .join("\n");
  }

  async close(): Promise<void> {
    for (const d of this.daemons) await d.kill();
    for (const pid of this.runnerPids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    await this.client?.end().catch(() => undefined);
    this.client = null;
    await this.database.drop();
    rmSync(this.home, { recursive: true, force: true });
    if (privateRoot !== null) rmSync(privateRoot, { recursive: true, force: true });
    privateRoot = null;
    privateBin = null;
  }
}

function isConnectionLoss(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return (
    code === "57P01" ||
    code === "ECONNRESET" ||
    /Connection terminated|not queryable|terminating connection/i.test(message)
  );
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address !== null
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

/** Whether a process with this pid exists (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
