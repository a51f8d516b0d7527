// The local services of the warehouse example DAGs (examples/dags/warehouse_*.ts), started on
// loopback: an S3-compatible store (s3rver), a small orders API, and a database on a PostgreSQL
// server. `npm run example-services` (scripts/example-services.mjs) and the end-to-end test
// (packages/updraft/test/e2e/warehouse-example.test.ts) both start them with this function, so
// the test checks what a user runs.
//
// PostgreSQL is the real one: serving a PGlite over the wire would take
// @electric-sql/pglite-socket, whose releases pin an exact older PGlite (0.2.17 wants 0.5.14)
// than the one Updraft ships (0.5.16), which npm refuses as a peer conflict.
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import pg from "pg";
import S3rver from "s3rver";

export const DEFAULTS = Object.freeze({
  host: "127.0.0.1",
  s3Port: 4568,
  httpPort: 8088,
  postgresUrl: "postgres://127.0.0.1:5432/postgres",
  database: "updraft_example",
  bucket: "warehouse",
  warmUpPolls: 1,
});

const REGIONS = ["north", "south", "east", "west"];

/** A day's orders, the same on every call for the same day, so reruns load the same rows. */
export function ordersOf(day) {
  let seed = [...day].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) >>> 0, 7);
  const next = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  return Array.from({ length: 12 }, (_, i) => ({
    order_id: `${day}-${String(i + 1).padStart(3, "0")}`,
    day,
    region: REGIONS[i % REGIONS.length],
    amount: Math.round((5 + next() * 495) * 100) / 100,
  }));
}

/**
 * The orders API. Its first `warmUpPolls` answers to /ready are 404 ("warming up"), so the first
 * run of warehouse_ingest shows its deferrable sensor hand the wait to the triggerer.
 */
function ordersApi(warmUpPolls) {
  let polls = 0;
  return createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const json = (status, body) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/ready")
      return ++polls <= warmUpPolls
        ? json(404, { ready: false, why: "warming up" })
        : json(200, { ready: true });
    if (url.pathname === "/orders") {
      const day = url.searchParams.get("day") ?? new Date().toISOString().slice(0, 10);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return json(400, { error: "day must be YYYY-MM-DD" });
      return json(200, ordersOf(day));
    }
    json(404, { error: `no route ${url.pathname}; try /ready or /orders?day=YYYY-MM-DD` });
  });
}

function listen(server, port, host) {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve(server.address().port);
    });
  });
}

function portInUse(err, what, port, flag) {
  return err?.code === "EADDRINUSE"
    ? new Error(`Port ${port} for the ${what} is taken: choose another with ${flag} PORT.`)
    : err;
}

async function withClient(url, fn) {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function shown(url) {
  const u = new URL(url);
  if (u.password !== "") u.password = "***";
  return u.toString();
}

/**
 * Creates `database` on the server at `adminUrl` unless it exists, and returns its URL with the
 * login spelled out (the connection is read by other processes, whose user may differ).
 */
async function prepareDatabase(serverUrl, database) {
  const admin = new URL(serverUrl);
  if (admin.username === "") admin.username = process.env["PGUSER"] ?? userInfo().username;
  const adminUrl = admin.toString();
  if (!/^[a-z_][a-z0-9_]*$/.test(database))
    throw new Error(
      `The database name ${JSON.stringify(database)} must be lower-case letters, digits and _.`,
    );
  try {
    await withClient(adminUrl, async (c) => {
      const found = await c.query("select 1 from pg_database where datname = $1", [database]);
      if (found.rowCount === 0) await c.query(`create database ${database}`);
    });
  } catch (err) {
    throw new Error(
      `PostgreSQL does not answer at ${shown(adminUrl)} (${err instanceof Error ? err.message : String(err)}). ` +
        "The warehouse example needs a PostgreSQL server: start one (for instance " +
        "`docker run -d -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16`) or point " +
        "--postgres (or UPDRAFT_EXAMPLE_POSTGRES_URL) at a server where you may create a database.",
      { cause: err },
    );
  }
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

/**
 * Starts the three services and returns the `UPDRAFT_CONN_*` variables that point the example
 * DAGs at them. Port 0 picks a free port.
 */
export async function startExampleServices(options = {}) {
  const o = { ...DEFAULTS, ...options };
  const postgresUrl = await prepareDatabase(o.postgresUrl, o.database);

  const directory = o.s3Directory ?? mkdtempSync(join(tmpdir(), "updraft-example-s3-"));
  const s3 = new S3rver({
    address: o.host,
    port: o.s3Port,
    silent: true,
    directory,
    configureBuckets: [{ name: o.bucket, configs: [] }],
  });
  let s3Port;
  try {
    s3Port = (await s3.run()).port;
  } catch (err) {
    throw portInUse(err, "S3 store", o.s3Port, "--s3-port");
  }

  const api = ordersApi(o.warmUpPolls);
  let httpPort;
  try {
    httpPort = await listen(api, o.httpPort, o.host);
  } catch (err) {
    await s3.close();
    throw portInUse(err, "orders API", o.httpPort, "--http-port");
  }

  const s3Endpoint = `http://${o.host}:${s3Port}`;
  const httpUrl = `http://${o.host}:${httpPort}`;
  // Both forms of docs/operators.md "Connections from the environment": URIs, and Airflow's JSON
  // where the extras would make a URI hard to read.
  const env = {
    UPDRAFT_CONN_ORDERS_API: httpUrl,
    UPDRAFT_CONN_WAREHOUSE_S3: JSON.stringify({
      conn_type: "aws",
      login: "S3RVER",
      password: "S3RVER",
      extra: { endpoint_url: s3Endpoint, region_name: "us-east-1" },
    }),
    UPDRAFT_CONN_WAREHOUSE_DB: postgresUrl,
  };

  return {
    env,
    s3Endpoint,
    s3Directory: directory,
    bucket: o.bucket,
    httpUrl,
    postgresUrl,
    async stop() {
      await new Promise((resolve) => api.close(() => resolve()));
      await s3.close();
      if (o.s3Directory === undefined) rmSync(directory, { recursive: true, force: true });
    },
  };
}
