// Runs a peer from ../shared/bench/peers side by side with Updraft, in the same run, so that
// figures compare on the same machine state. The peer scripts are copied into bench/.out so
// they resolve their packages (graphile-worker is a devDependency) from this repository.
import { execFileSync, spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const shared = join(repo, "..", "shared", "bench", "peers");
const out = join(repo, "bench", ".out", "peers");

/** A throwaway PostgreSQL database for a peer or for Updraft; returns its URL and a drop(). */
export async function throwawayPostgres(prefix) {
  const admin = process.env.UPDRAFT_TEST_POSTGRES_URL ?? "postgres://root@127.0.0.1:5432/postgres";
  const name = `${prefix}_${process.pid}_${Date.now()}`;
  const client = new pg.Client({ connectionString: admin });
  await client.connect();
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      if (process.env.KEEP_DB) return;
      const c = new pg.Client({ connectionString: admin });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/**
 * graphile-worker's own benchmark (W1 = 1→200→1, W2 = chain of 50), concurrency 2 and 16.
 * Returns its JSON lines, or null when the peer scripts are not beside the repository.
 */
export async function runGraphileWorker(reps = 3) {
  if (!existsSync(join(shared, "graphile-worker", "bench.mjs"))) return null;
  mkdirSync(out, { recursive: true });
  cpSync(join(shared, "common"), join(out, "common"), { recursive: true });
  cpSync(join(shared, "graphile-worker"), join(out, "graphile-worker"), { recursive: true });
  const db = await throwawayPostgres("peer_gw");
  try {
    const r = spawnSync(process.execPath, [join(out, "graphile-worker", "bench.mjs"), String(reps)], {
      env: { ...process.env, PGURL: db.url },
      encoding: "utf8",
      timeout: 300_000,
    });
    if (r.status !== 0) throw new Error(`graphile-worker bench failed: ${r.stderr.slice(-500)}`);
    return r.stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l));
  } finally {
    await db.drop();
  }
}

/** Celery's benchmark, when python3-celery is installed (apt-get install python3-celery). */
export function runCelery(reps = 3) {
  const probe = spawnSync("/usr/bin/python3", ["-c", "import celery, redis"], { encoding: "utf8" });
  if (probe.status !== 0 || !existsSync(join(shared, "celery", "run.sh"))) return null;
  mkdirSync(out, { recursive: true });
  cpSync(join(shared, "celery"), join(out, "celery"), { recursive: true });
  const text = execFileSync("bash", [join(out, "celery", "run.sh")], {
    env: { ...process.env, REPS: String(reps) },
    encoding: "utf8",
    timeout: 300_000,
  });
  return text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));
}
