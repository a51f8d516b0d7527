#!/usr/bin/env node
// `npm run example-services`: the local services of the warehouse example DAGs, until Ctrl-C.
// Prints the UPDRAFT_CONN_* lines to paste in the terminal that runs `npm start`.
import { parseArgs } from "node:util";
import { DEFAULTS, startExampleServices } from "./example-services-start.mjs";

const HELP = `Usage: npm run example-services -- [options]

Starts on loopback what examples/dags/warehouse_ingest.ts and warehouse_report.ts use:
an S3-compatible store (bucket "${DEFAULTS.bucket}"), the orders API, and the database
"${DEFAULTS.database}" on a PostgreSQL server (which must already run).

  --s3-port PORT     S3 store (default ${DEFAULTS.s3Port})
  --http-port PORT   orders API (default ${DEFAULTS.httpPort})
  --postgres URL     PostgreSQL server to create the database on
                     (default $UPDRAFT_EXAMPLE_POSTGRES_URL or ${DEFAULTS.postgresUrl})
  --database NAME    database for the example's tables (default ${DEFAULTS.database})
  --help`;

function port(text, flag) {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 65535) {
    console.error(`${flag} must be a port number from 0 to 65535 (got ${JSON.stringify(text)}).`);
    process.exit(2);
  }
  return n;
}

let args;
try {
  args = parseArgs({
    options: {
      "s3-port": { type: "string" },
      "http-port": { type: "string" },
      postgres: { type: "string" },
      database: { type: "string" },
      help: { type: "boolean" },
    },
  }).values;
} catch (err) {
  console.error(`${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
  process.exit(2);
}
if (args.help) {
  console.log(HELP);
  process.exit(0);
}

let services;
try {
  services = await startExampleServices({
    s3Port: args["s3-port"] === undefined ? DEFAULTS.s3Port : port(args["s3-port"], "--s3-port"),
    httpPort: args["http-port"] === undefined ? DEFAULTS.httpPort : port(args["http-port"], "--http-port"),
    postgresUrl: args.postgres ?? process.env["UPDRAFT_EXAMPLE_POSTGRES_URL"] ?? DEFAULTS.postgresUrl,
    database: args.database ?? DEFAULTS.database,
  });
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}

const quote = (v) => `'${v.replace(/'/g, "'\\''")}'`;
console.log(`Warehouse example services are up:
  S3 store    ${services.s3Endpoint}  (bucket "${services.bucket}", files in ${services.s3Directory})
  orders API  ${services.httpUrl}/orders?day=YYYY-MM-DD
  PostgreSQL  ${services.postgresUrl.replace(/:[^:@/]*@/, ":***@")}

In the terminal where you run \`npm start\`, first paste:

${Object.entries(services.env)
  .map(([k, v]) => `export ${k}=${quote(v)}`)
  .join("\n")}

Then unpause warehouse_ingest and warehouse_report, and trigger warehouse_ingest.
Ctrl-C stops the services.`);

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void services.stop().then(() => {
      console.log("Stopped.");
      process.exit(0);
    });
  });
}
