// Turns one DAG file (TypeScript or JavaScript, with its relative imports) into one ESM file the
// evaluation child can import. `updraft` always resolves to this package's built entry, other
// packages stay external at the absolute path they resolve to from the DAG file, so a DAG folder
// anywhere on disk works. Outputs are cached by the content of every input.
import { createHash } from "node:crypto";
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { builtinModules } from "node:module";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import {
  build,
  version as esbuildVersion,
  type BuildFailure,
  type BuildOptions,
  type Message,
  type Plugin,
} from "esbuild";
import { UPDRAFT_ENTRY, UPDRAFT_VERSION } from "./paths.js";

/** Bumped when the transpile options change in a way that invalidates cached outputs. */
const FORMAT_VERSION = "1";
const BUILTINS = new Set(builtinModules);

export type TranspileResult =
  | {
      ok: true;
      fileloc: string;
      /** Absolute path of the compiled ESM file. */
      compiledPath: string;
      /** Content hash of all inputs: the cache key and the module-cache buster. */
      key: string;
      /** Absolute paths of every file bundled into the output (the DAG file first). */
      inputs: string[];
      cached: boolean;
    }
  | { ok: false; fileloc: string; error: string; line?: number; inputs: string[] };

/** Written into the output itself (one file per DAG file), just before its source map comment. */
interface Manifest {
  fileloc: string;
  key: string;
  inputs: string[];
}

const MANIFEST_MARK = "\n//# updraft-cache ";
const SOURCE_MAP_MARK = "\n//# sourceMappingURL=";

function withManifest(code: string, manifest: Manifest): string {
  const line = `${MANIFEST_MARK}${JSON.stringify(manifest)}`;
  const at = code.lastIndexOf(SOURCE_MAP_MARK);
  return at < 0 ? `${code}${line}\n` : `${code.slice(0, at)}${line}${code.slice(at)}`;
}

function readManifest(code: string): Manifest | undefined {
  const at = code.lastIndexOf(MANIFEST_MARK);
  if (at < 0) return undefined;
  const end = code.indexOf("\n", at + MANIFEST_MARK.length);
  try {
    return JSON.parse(code.slice(at + MANIFEST_MARK.length, end < 0 ? undefined : end)) as Manifest;
  } catch {
    return undefined;
  }
}

/** Reads each file once per transpile call (a helper shared by many DAG files is read once). */
type ReadFile = (path: string) => Promise<Buffer | undefined>;

function isNodeBuiltin(spec: string): boolean {
  return spec.startsWith("node:") || BUILTINS.has(spec) || BUILTINS.has(spec.split("/")[0] ?? "");
}

function updraftSpecifier(spec: string): boolean {
  return spec === "updraft" || spec.startsWith("updraft/");
}

/** Resolves `updraft` to the running build; every other bare package becomes an absolute external. */
function externalsPlugin(): Plugin {
  return {
    name: "updraft-externals",
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        if ((args.pluginData as { inner?: boolean } | undefined)?.inner === true) return undefined;
        if (isNodeBuiltin(args.path)) return { path: args.path, external: true };
        if (updraftSpecifier(args.path)) {
          let target = UPDRAFT_ENTRY;
          if (args.path !== "updraft") {
            try {
              target = import.meta.resolve(args.path);
              return { path: target, external: true };
            } catch {
              return {
                errors: [{ text: `"${args.path}" is not an export of updraft. Import from "updraft".` }],
              };
            }
          }
          return { path: pathToFileURL(target).href, external: true };
        }
        const found = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          importer: args.importer,
          pluginData: { inner: true },
        });
        // On failure esbuild's own resolver reports "Could not resolve" at the import's line.
        if (found.errors.length > 0 || found.path === "") return undefined;
        return { path: pathToFileURL(found.path).href, external: true };
      });
    },
  };
}

function sha(text: string): string {
  return createHash("sha256").update(text).digest("hex");
}

async function contentKey(inputs: readonly string[], read: ReadFile): Promise<string | undefined> {
  const hash = createHash("sha256");
  hash.update(`${FORMAT_VERSION}\0${esbuildVersion}\0${UPDRAFT_VERSION}\0${UPDRAFT_ENTRY}\0`);
  const contents = await Promise.all(inputs.map(read));
  for (const [i, p] of inputs.entries()) {
    const content = contents[i];
    if (content === undefined) return undefined;
    hash.update(`${p}\0${content.length}\0`).update(content);
  }
  return hash.digest("hex");
}

function describeMessages(
  fileloc: string,
  cwd: string,
  messages: readonly Message[],
): { error: string; line?: number } {
  let line: number | undefined;
  const parts = messages.slice(0, 5).map((m) => {
    const loc = m.location;
    if (loc === null) return m.text;
    const file = resolve(cwd, loc.file);
    if (file === fileloc) {
      line ??= loc.line;
      return `${m.text} (line ${loc.line}, column ${loc.column + 1})`;
    }
    return `${m.text} (in ${file}:${loc.line}:${loc.column + 1})`;
  });
  if (messages.length > 5) parts.push(`… and ${messages.length - 5} more errors`);
  return line === undefined ? { error: parts.join("\n") } : { error: parts.join("\n"), line };
}

function byEntryFirst(fileloc: string): (a: string, b: string) => number {
  return (a, b) => (a === fileloc ? -1 : b === fileloc ? 1 : a < b ? -1 : a > b ? 1 : 0);
}

/** Counts of real builds (files esbuild compiled) and cache hits, for tests and benchmarks. */
export interface TranspileStats {
  builds: number;
  cacheHits: number;
}

/** At most this many DAG files go into one esbuild build: one build of many entries is far cheaper than many builds. */
const MAX_BATCH = 100;
/** Builds running at once (each is multi-threaded inside esbuild). */
const BUILDS_AT_ONCE = 2;

/**
 * Transpiles DAG files into a cache folder. One instance per cache folder; esbuild keeps one
 * long-lived service process for all of them.
 */
export class Transpiler {
  readonly cacheDir: string;
  readonly stats: TranspileStats = { builds: 0, cacheHits: 0 };
  private readonly outDir: string;
  private ready: Promise<void> | undefined;

  constructor(cacheDir: string) {
    this.cacheDir = resolve(cacheDir);
    this.outDir = join(this.cacheDir, "out");
  }

  /** Transpiles one DAG file (an absolute path), or returns the cached output for unchanged inputs. */
  transpile(fileloc: string): Promise<TranspileResult> {
    return this.transpileAll([fileloc])[0]!;
  }

  /**
   * Transpiles many DAG files; each promise settles as soon as its file is done (so evaluation
   * can start before the last file is built). `known` holds contents already read by the caller.
   */
  transpileAll(
    filelocs: readonly string[],
    known: ReadonlyMap<string, Buffer> = new Map(),
  ): Promise<TranspileResult>[] {
    const reads = new Map<string, Promise<Buffer | undefined>>();
    const read: ReadFile = (path) => {
      let r = reads.get(path);
      if (r === undefined) {
        const k = known.get(path);
        r = k !== undefined ? Promise.resolve(k) : readFile(path).catch(() => undefined);
        reads.set(path, r);
      }
      return r;
    };
    const settlers = new Map<string, (r: TranspileResult) => void>();
    const results = filelocs.map((f) => new Promise<TranspileResult>((res) => settlers.set(f, res)));
    void this.run(filelocs, read, settlers);
    return results;
  }

  private async run(
    filelocs: readonly string[],
    read: ReadFile,
    settlers: Map<string, (r: TranspileResult) => void>,
  ): Promise<void> {
    const settle = (r: TranspileResult): void => settlers.get(r.fileloc)?.(r);
    try {
      await this.ensureDirs();
      const hits = await Promise.all(filelocs.map((f) => this.fromCache(f, read)));
      const misses: string[] = [];
      hits.forEach((hit, i) => {
        if (hit !== undefined) {
          this.stats.cacheHits++;
          settle(hit);
        } else misses.push(filelocs[i]!);
      });
      const size = Math.min(MAX_BATCH, Math.max(1, Math.ceil(misses.length / 8)));
      const batches: string[][] = [];
      for (let i = 0; i < misses.length; i += size) batches.push(misses.slice(i, i + size));
      let next = 0;
      // Writing a batch's outputs overlaps the next build.
      const writes: Promise<void>[] = [];
      const worker = async (): Promise<void> => {
        while (next < batches.length) await this.buildBatch(batches[next++]!, read, settle, writes);
      };
      await Promise.all(Array.from({ length: Math.min(BUILDS_AT_ONCE, batches.length) }, worker));
      await Promise.all(writes);
    } catch (err) {
      const error = `Could not transpile the DAG file: ${err instanceof Error ? err.message : String(err)}`;
      for (const f of filelocs) settle({ ok: false, fileloc: f, error, inputs: [f] });
    }
  }

  private ensureDirs(): Promise<void> {
    this.ready ??= mkdir(this.outDir, { recursive: true }).then(() => undefined);
    return this.ready;
  }

  /** One output per DAG file; the `?v=` of each import tells apart its versions. */
  private outputPath(fileloc: string): string {
    return join(this.outDir, `${sha(fileloc).slice(0, 40)}.mjs`);
  }

  /** Returns the cached output when every input is unchanged, without running esbuild. */
  private async fromCache(fileloc: string, read: ReadFile): Promise<TranspileResult | undefined> {
    const compiledPath = this.outputPath(fileloc);
    const code = await readFile(compiledPath, "utf8").catch(() => undefined);
    const manifest = code === undefined ? undefined : readManifest(code);
    if (manifest?.fileloc !== fileloc) return undefined;
    const key = await contentKey(manifest.inputs, read);
    if (key !== manifest.key) return undefined;
    return { ok: true, fileloc, compiledPath, key, inputs: manifest.inputs, cached: true };
  }

  private options(entryPoints: string[], cwd: string): BuildOptions & { write: false; metafile: true } {
    return {
      entryPoints,
      absWorkingDir: cwd,
      // Outputs are named flat in outDir, and renamed there by content key: the relative
      // `sources` of the inline source maps stay right.
      outdir: this.outDir,
      entryNames: "[name]-[hash]",
      outExtension: { ".js": ".mjs" },
      bundle: true,
      write: false,
      metafile: true,
      platform: "node",
      format: "esm",
      target: "node20",
      sourcemap: "inline",
      sourcesContent: true,
      logLevel: "silent",
      plugins: [externalsPlugin()],
    };
  }

  /**
   * Builds several files at once; if that fails, bisects the batch to find whose error it is.
   * Resolves when esbuild is done; writing the outputs is pushed onto `writes`.
   */
  private async buildBatch(
    filelocs: string[],
    read: ReadFile,
    settle: (r: TranspileResult) => void,
    writes: Promise<void>[],
  ): Promise<void> {
    const cwd = dirname(filelocs[0]!);
    let result;
    try {
      result = await build(this.options(filelocs, cwd));
    } catch (err) {
      if (filelocs.length === 1) {
        settle(failureResult(filelocs[0]!, cwd, err));
        return;
      }
      const half = Math.ceil(filelocs.length / 2);
      await Promise.all([
        this.buildBatch(filelocs.slice(0, half), read, settle, writes),
        this.buildBatch(filelocs.slice(half), read, settle, writes),
      ]);
      return;
    }
    this.stats.builds += filelocs.length;
    const code = new Map(result.outputFiles.map((o) => [o.path, o.text]));
    const seen = new Set<string>();
    for (const [outRel, meta] of Object.entries(result.metafile.outputs)) {
      if (meta.entryPoint === undefined) continue;
      const fileloc = resolve(cwd, meta.entryPoint);
      seen.add(fileloc);
      const inputs = Object.keys(meta.inputs)
        .map((p) => resolve(cwd, p))
        .sort(byEntryFirst(fileloc));
      if (!inputs.includes(fileloc)) inputs.unshift(fileloc);
      writes.push(this.store(fileloc, inputs, code.get(resolve(cwd, outRel)), read).then(settle));
    }
    for (const f of filelocs) {
      if (!seen.has(f))
        settle({ ok: false, fileloc: f, inputs: [f], error: "esbuild produced no output for the DAG file." });
    }
  }

  private async store(
    fileloc: string,
    inputs: string[],
    code: string | undefined,
    read: ReadFile,
  ): Promise<TranspileResult> {
    const key = await contentKey(inputs, read);
    if (code === undefined || key === undefined) {
      return {
        ok: false,
        fileloc,
        inputs,
        error: "The DAG file changed while it was transpiled; it is parsed again on the next refresh.",
      };
    }
    const compiledPath = this.outputPath(fileloc);
    await writeAtomic(compiledPath, withManifest(code, { fileloc, key, inputs }));
    return { ok: true, fileloc, compiledPath, key, inputs, cached: false };
  }
}

function failureResult(fileloc: string, cwd: string, err: unknown): TranspileResult {
  const failure = err as Partial<BuildFailure>;
  const messages = Array.isArray(failure.errors) ? failure.errors : [];
  const described =
    messages.length > 0
      ? describeMessages(fileloc, cwd, messages)
      : { error: err instanceof Error ? err.message : String(err) };
  return { ok: false, fileloc, inputs: [fileloc], ...described };
}

let tmpSeq = 0;
/** Several processes may share one cache folder: never let a reader see a half-written file. */
async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.${tmpSeq++}.tmp`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}
