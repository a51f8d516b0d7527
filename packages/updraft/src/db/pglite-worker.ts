/**
 * The worker thread that owns the embedded PGlite database, so that PostgreSQL's work (parsing,
 * planning, executing, encoding rows: most of the engine's CPU on PGlite) runs beside the engine's
 * event loop instead of on it. It opens the database described by `workerData`, then answers the
 * requests of pglite-thread.ts one at a time, in the order they arrive.
 */
import { parentPort, workerData } from "node:worker_threads";
import { PGlite } from "@electric-sql/pglite";
import { createPgConfig } from "@electric-sql/pglite/node-postgres";
import pg from "pg";
import {
  toWireError,
  type PGliteReply,
  type PGliteRequest,
  type PGliteWorkerData,
  type QueryReply,
} from "./pglite-protocol.js";

const port = parentPort;
if (port === null) throw new Error("pglite-worker runs in a worker thread started by pglite-thread.ts.");

function send(reply: PGliteReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(reply, transfer);
}

async function open(data: PGliteWorkerData): Promise<PGlite> {
  return PGlite.create({
    ...(data.dataDir !== undefined ? { dataDir: data.dataDir } : {}),
    ...(data.loadDataDir !== undefined ? { loadDataDir: new Blob([data.loadDataDir]) } : {}),
  });
}

/** Prepared statements kept on the session at most (each holds a plan). */
const MAX_PREPARED = 256;

/**
 * Parameterised statements go through node-postgres over PGlite's own protocol adapter, as named
 * prepared statements keyed by their text: PGlite's query() parses and plans every call again, and
 * planning is most of a hot statement's cost (the finish statement: ~1.3 → ~0.7 ms). Values are
 * parsed as PGlite parses them: int8 as a number while it is safe, else a bigint.
 */
function preparingQuery(client: pg.Client): (sql: string, params: unknown[]) => Promise<QueryReply> {
  const names = new Map<string, string>();
  return async (text, values) => {
    let name = names.get(text);
    if (name === undefined && values.length > 0 && names.size < MAX_PREPARED) {
      name = `updraft_${names.size}`;
      names.set(text, name);
    }
    const result = await client.query(name === undefined ? { text, values } : { name, text, values });
    return { rows: result.rows, affectedRows: result.rowCount ?? undefined };
  };
}

async function connect(pglite: PGlite): Promise<pg.Client> {
  const client = new pg.Client({
    ...createPgConfig(pglite),
    types: {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === 20
          ? (v: string) => (Number.isSafeInteger(Number(v)) ? Number(v) : BigInt(v))
          : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
    },
  } as unknown as pg.ClientConfig);
  await client.connect();
  return client;
}

let query: ((sql: string, params: unknown[]) => Promise<QueryReply>) | undefined;
let client: pg.Client | undefined;

async function serve(pglite: PGlite, req: PGliteRequest): Promise<void> {
  switch (req.op) {
    case "query": {
      for (const statement of req.before ?? []) await pglite.exec(statement);
      const reply = await query!(req.sql, [...req.params]);
      send({ kind: "ok", id: req.id, result: reply });
      return;
    }
    case "exec":
      for (const statement of req.statements) await pglite.exec(statement);
      send({ kind: "ok", id: req.id, result: undefined });
      return;
    case "listen": {
      // The request's id names the listener in the notifications it receives.
      const stop = await pglite.listen(req.channel, (payload) =>
        send({ kind: "notification", listener: req.id, payload }),
      );
      listeners.set(req.id, stop);
      send({ kind: "ok", id: req.id, result: req.id });
      return;
    }
    case "unlisten":
      await listeners.get(req.listener)?.();
      listeners.delete(req.listener);
      send({ kind: "ok", id: req.id, result: undefined });
      return;
    case "dump": {
      const bytes = new Uint8Array(await (await pglite.dumpDataDir("none")).arrayBuffer());
      send({ kind: "ok", id: req.id, result: bytes }, [bytes.buffer]);
      return;
    }
    case "close":
      await client?.end();
      await pglite.close();
      send({ kind: "ok", id: req.id, result: undefined });
      // With the port closed nothing is left to run and the thread ends.
      port?.close();
      return;
  }
}

const listeners = new Map<number, () => Promise<void>>();

let pglite: PGlite | undefined;
try {
  pglite = await open(workerData as PGliteWorkerData);
  client = await connect(pglite);
  query = preparingQuery(client);
  send({ kind: "ready" });
} catch (err) {
  send({ kind: "open-failed", error: toWireError(err) });
  port.close();
}

if (pglite !== undefined) {
  const db = pglite;
  let queue = Promise.resolve();
  port.on("message", (req: PGliteRequest) => {
    queue = queue.then(() =>
      serve(db, req).catch((err: unknown) => {
        send({ kind: "error", id: req.id, error: toWireError(err) });
        // A trap inside PostgreSQL's WASM leaves its memory in an unknown state: end the thread, so
        // that every later query fails with a clear error instead of running on a broken backend.
        if (err instanceof Error && err.name === "RuntimeError") throw err;
      }),
    );
  });
}
