import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { UpdraftError } from "../common/errors.js";
import {
  fromWireError,
  type PGliteReply,
  type PGliteRequest,
  type PGliteWorkerData,
  type QueryReply,
} from "./pglite-protocol.js";

let script: Promise<URL> | undefined;

/** The worker's entry: the built file beside this one, or, from src/, the TypeScript bundled now. */
function workerScript(): Promise<URL> {
  script ??= findWorkerScript().catch((err: unknown) => {
    script = undefined;
    throw err;
  });
  return script;
}

async function findWorkerScript(): Promise<URL> {
  const built = new URL("./pglite-worker.js", import.meta.url);
  if (existsSync(fileURLToPath(built))) return built;
  // Loaded from src/ (vitest runs the TypeScript sources): Node 20 cannot start a worker from a .ts
  // file, and dist/ may be older than the source under test, so bundle the source with esbuild
  // (a dependency already) into a data: URL. Such a module resolves only absolute specifiers, so
  // packages are imported by their resolved file URL.
  const { build } = await import("esbuild");
  const out = await build({
    entryPoints: [fileURLToPath(new URL("./pglite-worker.ts", import.meta.url))],
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "silent",
    plugins: [
      {
        name: "absolute-packages",
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) => ({
            path: args.path.startsWith("node:") ? args.path : import.meta.resolve(args.path),
            external: true,
          }));
        },
      },
    ],
  });
  const code = out.outputFiles[0]?.contents ?? new Uint8Array();
  return new URL(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`);
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/** A request before it is numbered. */
type Request = WithoutId<PGliteRequest>;
type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

/**
 * The main thread's side of the worker that owns a PGlite database (pglite-worker.ts): sends
 * requests, matches replies to them by id, and dispatches notifications. It does not order
 * requests: the dialect's mutex does. The worker keeps the process alive only while a request is
 * in flight, as the in-process PGlite did (it held no handle).
 */
export class PGliteThread {
  readonly #worker: Worker;
  readonly #where: string;
  readonly #pending = new Map<number, Pending>();
  readonly #listeners = new Map<number, (payload: string) => void>();
  readonly #exited: Promise<void>;
  #nextId = 1;
  /** Why requests fail from now on: the database was closed, or the worker died. */
  #failure: UpdraftError | undefined;
  #closing: Promise<void> | undefined;
  /** The worker's uncaught error, if it had one: the cause of DB_WORKER_EXITED. */
  #crash: Error | undefined;

  private constructor(worker: Worker, where: string) {
    this.#worker = worker;
    this.#where = where;
    worker.on("message", (msg: PGliteReply) => this.#onMessage(msg));
    worker.on("error", (err) => (this.#crash = err));
    worker.on("messageerror", (err) => {
      this.#crash = err;
      void worker.terminate();
    });
    this.#exited = new Promise((resolve) => {
      worker.once("exit", (code) => {
        // Asked to close and no error: the close reply came first and already failed requests
        // with DB_CLOSED. Otherwise the thread died, perhaps in the middle of closing.
        this.#fail(
          this.#closing !== undefined && this.#crash === undefined
            ? this.#closedError()
            : this.#diedError(code),
        );
        resolve();
      });
    });
  }

  /**
   * Starts a worker thread and opens the database in it. Rejects with the worker's error (the
   * message of PGlite.create) if the database cannot be opened; the thread is gone by then.
   */
  static async start(data: PGliteWorkerData, where: string): Promise<PGliteThread> {
    const load = data.loadDataDir;
    const transferable =
      load !== undefined && load.byteOffset === 0 && load.byteLength === load.buffer.byteLength;
    const worker = new Worker(await workerScript(), {
      workerData: data,
      transferList: transferable ? [load.buffer as ArrayBuffer] : [],
    });
    const thread = new PGliteThread(worker, where);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (msg: PGliteReply): void => {
        if (msg.kind === "ready") resolve();
        else if (msg.kind === "open-failed") reject(fromWireError(msg.error));
        else return;
        worker.off("message", onMessage);
      };
      worker.on("message", onMessage);
      void thread.#exited.then(() => reject(thread.#failure));
    });
    worker.unref();
    return thread;
  }

  /** Runs `sql`, after the parameterless statements `before` (see PGliteRequest). */
  query(sql: string, params: readonly unknown[], before?: readonly string[]): Promise<QueryReply> {
    const req: Request =
      before === undefined ? { op: "query", sql, params } : { op: "query", sql, params, before };
    return this.#request(req) as Promise<QueryReply>;
  }

  /** Runs statements without parameters, in order, on the simple protocol. */
  async exec(statements: readonly string[]): Promise<void> {
    await this.#request({ op: "exec", statements });
  }

  /** LISTEN on `channel`; resolves to the function that stops this listener. */
  async listen(channel: string, cb: (payload: string) => void): Promise<() => Promise<void>> {
    const listener = (await this.#request({ op: "listen", channel })) as number;
    this.#listeners.set(listener, cb);
    return async () => {
      if (!this.#listeners.delete(listener)) return;
      await this.#request({ op: "unlisten", listener });
    };
  }

  /** The data directory as an uncompressed tar, for `loadDataDir`. */
  async dumpDataDir(): Promise<Uint8Array> {
    return (await this.#request({ op: "dump" })) as Uint8Array;
  }

  /** @internal For tests: ends the worker thread abruptly, as a crash would. */
  async terminate(): Promise<void> {
    await this.#worker.terminate();
    await this.#exited;
  }

  /** Closes the database and ends the thread; later requests fail with DB_CLOSED. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    try {
      if (this.#failure === undefined) await this.#request({ op: "close" });
    } finally {
      this.#fail(this.#closedError());
      await this.#worker.terminate();
      await this.#exited;
    }
  }

  #request(req: Request): Promise<unknown> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      try {
        this.#worker.postMessage({ ...req, id });
      } catch (err) {
        // A parameter structured clone cannot copy (a function, a symbol).
        reject(err);
        return;
      }
      this.#pending.set(id, { resolve, reject });
      if (this.#pending.size === 1) this.#worker.ref();
    });
  }

  #onMessage(msg: PGliteReply): void {
    if (msg.kind === "notification") {
      const cb = this.#listeners.get(msg.listener);
      // Later, as PGlite did: a throwing callback must not break the reply handling here.
      if (cb !== undefined) queueMicrotask(() => cb(msg.payload));
      return;
    }
    if (msg.kind !== "ok" && msg.kind !== "error") return;
    const pending = this.#pending.get(msg.id);
    if (pending === undefined) return;
    this.#pending.delete(msg.id);
    if (this.#pending.size === 0) this.#worker.unref();
    if (msg.kind === "ok") pending.resolve(msg.result);
    else pending.reject(fromWireError(msg.error));
  }

  #closedError(): UpdraftError {
    return new UpdraftError(
      "DB_CLOSED",
      `The embedded database (${this.#where}) is closed: open it again to query it.`,
    );
  }

  #diedError(code: number): UpdraftError {
    const reason = this.#crash === undefined ? "" : `: ${this.#crash.message}`;
    return new UpdraftError(
      "DB_WORKER_EXITED",
      `The embedded database (${this.#where}) stopped: its worker thread exited with code ${code}${reason}. Queries fail from now on; restart the process to open the database again.`,
      { cause: this.#crash, details: { where: this.#where, exitCode: code } },
    );
  }

  /** Fails every request in flight, and every later one, with `err`. */
  #fail(err: UpdraftError): void {
    this.#failure ??= err;
    for (const pending of this.#pending.values()) pending.reject(this.#failure);
    this.#pending.clear();
    this.#listeners.clear();
  }
}
