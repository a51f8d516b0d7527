// Workload "standalone": what a user sees. Starts `updraft standalone` as a real process (the
// built binary) on a throwaway PostgreSQL database (or, with --db pglite, the embedded one), with
// the benchmark DAGs in its folder, triggers runs over the REST API as a user would, and reports
// each run's own start→end (its start_date and end_date, the database's clock).
// Usage: npm run bench -- standalone [chain100|fan200…] [--db postgres|pglite|both] [--reps N]
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { writeBenchDags } from "./lib/dags.mjs";
import { throwawayPostgres } from "./lib/peers.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, "..", "packages", "updraft", "bin", "updraft.js");
const WORKLOADS = {
  chain100: { dagId: "bench_chain100", goal: 400 },
  fan200: { dagId: "bench_fan200", goal: 450 },
};

const med = (a) => [...a].sort((x, y) => x - y)[Math.floor((a.length - 1) / 2)];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

async function withStandalone(db, fn) {
  const home = mkdtempSync(join(tmpdir(), "updraft-bench-standalone-"));
  const dags = join(home, "dags");
  writeBenchDags(dags);
  const pgdb = db === "postgres" ? await throwawayPostgres("updraft_bench_standalone") : null;
  const port = await freePort();
  // BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the standalone process (Node
  // refuses --cpu-prof in NODE_OPTIONS).
  const nodeArgs = (process.env.BENCH_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
  const child = spawn(
    process.execPath,
    [...nodeArgs, BIN, "standalone", "--dags-folder", dags, "--port", String(port)],
    {
      env: {
        ...process.env,
        UPDRAFT_HOME: home,
        UPDRAFT__CORE__DAGS_ARE_PAUSED_AT_CREATION: "false",
        ...(pgdb ? { UPDRAFT__DATABASE__SQL_ALCHEMY_CONN: pgdb.url } : {}),
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  try {
    const deadline = Date.now() + 120_000;
    while (!/is ready in/.test(output)) {
      if (child.exitCode !== null || Date.now() > deadline)
        throw new Error(`standalone did not start:\n${output}`);
      await sleep(100);
    }
    const token = JSON.parse(readFileSync(join(home, "standalone-secrets.json"), "utf8")).api_token;
    const api = async (method, path, body) => {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1${path}`, {
        method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { "content-type": "application/json" } : {}),
        },
        body: body ? JSON.stringify(body) : undefined,
      });
      const json = await res.json();
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
      return json;
    };
    // The DAG files are parsed behind the server's start.
    for (;;) {
      const dagsNow = await api("GET", "/dags?limit=100");
      if (Object.values(WORKLOADS).every((w) => dagsNow.dags.some((d) => d.dag_id === w.dagId))) break;
      if (Date.now() > deadline) throw new Error(`DAGs not parsed:\n${output}`);
      await sleep(200);
    }
    return await fn(api);
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
    await pgdb?.drop();
    rmSync(home, { recursive: true, force: true });
  }
}

async function runOnce(api, dagId, i) {
  const run = await api("POST", `/dags/${dagId}/dagRuns`, {
    dag_run_id: `bench_${i}`,
    logical_date: new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString(),
  });
  for (;;) {
    // Gentle polling: the figure is the run's own timestamps, and a 20 Hz poll costs the engine CPU.
    await sleep(250);
    const r = await api("GET", `/dags/${dagId}/dagRuns/${run.dag_run_id}`);
    if (r.state === "success") return Date.parse(r.end_date) - Date.parse(r.start_date);
    if (r.state === "failed") throw new Error(`${dagId} run ${run.dag_run_id} failed`);
  }
}

export async function main(argv) {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { db: { type: "string", default: "postgres" }, reps: { type: "string", default: "5" } },
  });
  const names = positionals.length > 0 ? positionals : Object.keys(WORKLOADS);
  const reps = Math.max(1, Number(values.reps));
  const dbs = values.db === "both" ? ["postgres", "pglite"] : [values.db];
  const results = [];
  for (const db of dbs) {
    await withStandalone(db, async (api) => {
      let i = 0;
      for (const name of names) {
        const w = WORKLOADS[name];
        if (!w) throw new Error(`unknown workload ${name}; known: ${Object.keys(WORKLOADS).join(", ")}`);
        await runOnce(api, w.dagId, i++); // warm-up: modules loaded, runners warm
        const ms = [];
        for (let r = 0; r < reps; r++) ms.push(await runOnce(api, w.dagId, i++));
        const r = {
          workload: `standalone_${name}`,
          db,
          run_start_to_end_ms: med(ms),
          runs_ms: ms,
          goal_ms: w.goal,
        };
        console.log(JSON.stringify(r));
        results.push(r);
      }
    });
  }
  console.log(`\nsummary (a run's own start→end in updraft standalone, median of ${reps}):`);
  for (const r of results) {
    const met = r.db === "postgres" ? (r.run_start_to_end_ms <= r.goal_ms ? "met" : "NOT met") : "no goal";
    console.log(
      `  ${r.workload.padEnd(20)} ${r.db.padEnd(8)} ${String(r.run_start_to_end_ms).padStart(6)} ms  (goal on PostgreSQL ≤ ${r.goal_ms} ms: ${met})`,
    );
  }
}
