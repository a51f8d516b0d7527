// The long-lived DAG processor: remembers every file it has seen (mtime, size, content hash, the
// helper modules it bundled) and on each refresh() evaluates only what is new or changed, keeping
// its evaluation children warm in between. parseDagFolder() is one refresh of a fresh processor.
import { createHash } from "node:crypto";
import { readFile, stat } from "node:fs/promises";
import { basename, resolve } from "node:path";
import type { SerializedDag } from "../model/serialized-dag.js";
import { listCandidateFiles, looksLikeDagFile, type CandidateFile } from "./discover.js";
import { unconfiguredExecutorProblems } from "../model/executor-names.js";
import { resolveProcessorOptions, type ProcessorOptions, type ResolvedProcessorOptions } from "./options.js";
import { Transpiler, type TranspileResult } from "../loader/transpile.js";
import { EvaluationPool } from "./worker-pool.js";

/** A DAG file that could not be evaluated, or a problem found in the DAGs it defines. */
export interface ImportError {
  /** Absolute path of the DAG file. */
  filename: string;
  error: string;
  /** 1-based line in `filename`, when known. */
  line?: number;
}

export interface ParseStats {
  /** DAG files known after the refresh. */
  files: number;
  /** Files evaluated by this refresh. */
  parsed: number;
  durationMs: number;
}

/** What one refresh() changed, for whoever writes serialized DAGs and import errors. */
export interface RefreshResult {
  /** Files (new or changed) evaluated by this refresh, sorted. */
  parsedFiles: string[];
  /** Files gone (deleted, ignored, or no longer DAG files) since the last refresh. */
  removedFiles: string[];
  /** DAGs that are new or whose `dag_hash` changed. */
  upsertedDags: SerializedDag[];
  /** DAG ids that no file defines any more. */
  removedDagIds: string[];
  /** Files whose import errors changed; an empty `errors` list means the file's errors cleared. */
  importErrorChanges: { filename: string; errors: ImportError[] }[];
  /** The source of each file evaluated by this refresh that defines DAGs (Airflow's dag_code). */
  dagCode: DagFileSource[];
  stats: ParseStats;
}

/** A DAG file's text as it was read for evaluation. */
export interface DagFileSource {
  fileloc: string;
  source: string;
}

/**
 * Receives a refresh's changes while it runs, so that the DAGs of quick files need not wait for a
 * slow one. Calls never overlap and the refresh waits for each; a call that throws counts as not
 * delivered, and its changes come again with the next call or the refresh's result.
 */
export type RefreshProgress = (changes: RefreshResult) => Promise<void> | void;

export interface RefreshOptions {
  /** Evaluate every DAG file again, changed or not. */
  force?: boolean;
  /** Hands over changes as files finish; the refresh's result then holds only the rest. */
  onProgress?: RefreshProgress;
}

/** Everything the processor currently knows. */
export interface DagBag {
  dags: SerializedDag[];
  importErrors: ImportError[];
  /** The source of every file that defines DAGs. */
  dagCode: DagFileSource[];
  stats: ParseStats;
}

interface FileState {
  mtimeMs: number;
  size: number;
  contentHash: string;
  isDagFile: boolean;
  /** Helper modules bundled into the file, with their mtimes: a change there re-parses the file. */
  deps: Map<string, number>;
  dags: SerializedDag[];
  errors: ImportError[];
  /** The text evaluated (DAG files only), kept for the database's dag_code. */
  source: string | null;
}

interface View {
  dags: Map<string, SerializedDag>;
  errorsByFile: Map<string, ImportError[]>;
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function dagFingerprint(dag: SerializedDag): string {
  const hash = (dag as { dag_hash?: unknown }).dag_hash;
  return typeof hash === "string" ? hash : JSON.stringify(dag);
}

function importError(filename: string, error: string, line: number | undefined): ImportError {
  return line === undefined ? { filename, error } : { filename, error, line };
}

async function depsChanged(deps: ReadonlyMap<string, number>): Promise<boolean> {
  if (deps.size === 0) return false;
  const checks = await Promise.all(
    [...deps].map(async ([path, mtime]) => (await stat(path).catch(() => undefined))?.mtimeMs !== mtime),
  );
  return checks.includes(true);
}

async function depMtimes(inputs: readonly string[], fileloc: string): Promise<Map<string, number>> {
  const deps = new Map<string, number>();
  await Promise.all(
    inputs
      .filter((p) => p !== fileloc)
      .map(async (p) => {
        const s = await stat(p).catch(() => undefined);
        deps.set(p, s?.mtimeMs ?? -1);
      }),
  );
  return deps;
}

/**
 * Parses a DAGs folder and keeps it parsed. Call `refresh()` whenever files may have changed
 * (the scheduler does it on an interval); `close()` stops the evaluation children.
 *
 * @example
 * ```ts
 * const processor = new DagFileProcessor("/opt/dags", { timeoutSeconds: 30 });
 * const first = await processor.refresh(); // every file
 * const next = await processor.refresh();  // only changed, new and deleted files
 * await processor.close();
 * ```
 */
export class DagFileProcessor {
  readonly dagsFolder: string;
  readonly options: ResolvedProcessorOptions;
  readonly transpiler: Transpiler;
  private readonly pool: EvaluationPool;
  private readonly files = new Map<string, FileState>();
  private view: View = { dags: new Map(), errorsByFile: new Map() };
  private lastStats: ParseStats = { files: 0, parsed: 0, durationMs: 0 };
  private running: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(dagsFolder: string, options: ProcessorOptions = {}) {
    this.dagsFolder = resolve(dagsFolder);
    this.options = resolveProcessorOptions(options);
    this.transpiler = new Transpiler(this.options.cacheDir);
    this.pool = new EvaluationPool({
      size: this.options.parsingProcesses,
      timeoutMs: this.options.timeoutSeconds * 1000,
      memoryCapMb: this.options.memoryCapMb,
      maxFilesPerChild: this.options.maxFilesPerChild,
      logger: this.options.logger,
    });
  }

  /** Valid DAGs of every file, in file order (duplicate dag ids already removed). */
  get dags(): SerializedDag[] {
    return [...this.view.dags.values()];
  }

  /** Import errors of every file, in file order. */
  get importErrors(): ImportError[] {
    return [...this.view.errorsByFile.values()].flat();
  }

  /** The DAG files currently known, sorted. */
  get dagFiles(): string[] {
    return [...this.files].filter(([, s]) => s.isDagFile).map(([p]) => p);
  }

  /** A snapshot of everything known after the last refresh. */
  bag(): DagBag {
    return {
      dags: this.dags,
      importErrors: this.importErrors,
      dagCode: this.sourcesOf([...this.files.keys()].sort()),
      stats: this.lastStats,
    };
  }

  /** The sources of those of `paths` that define DAGs. */
  private sourcesOf(paths: readonly string[]): DagFileSource[] {
    return paths.flatMap((fileloc) => {
      const state = this.files.get(fileloc);
      if (state === undefined || state.source === null || state.dags.length === 0) return [];
      return [{ fileloc, source: state.source }];
    });
  }

  /**
   * Re-reads the folder: evaluates new and changed files (a DAG file, or a helper module it
   * imports), forgets deleted ones, and returns what changed. Refreshes never overlap.
   */
  refresh(options: RefreshOptions = {}): Promise<RefreshResult> {
    const run = this.running.then(() => this.doRefresh(options.force === true, options.onProgress));
    this.running = run.catch(() => undefined);
    return run;
  }

  /**
   * Stops the evaluation children. The processor cannot be refreshed afterwards. A refresh still
   * running ends with its unfinished files failed (children first, so that a file that loops
   * forever does not hold the close up until its time limit).
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool.close();
    await this.running;
  }

  private async doRefresh(force: boolean, onProgress: RefreshProgress | undefined): Promise<RefreshResult> {
    if (this.closed) throw new Error("DagFileProcessor.refresh() called after close()");
    const started = performance.now();
    const candidates = await listCandidateFiles(this.dagsFolder, { skipDirs: [this.transpiler.cacheDir] });
    const singleFile = candidates.length === 1 && candidates[0]?.path === this.dagsFolder;
    const seen = new Set(candidates.map((c) => c.path));
    const removedFiles = [...this.files.keys()].filter((p) => !seen.has(p));
    for (const p of removedFiles) this.files.delete(p);

    const toParse = (await Promise.all(candidates.map((c) => this.needsParse(c, force, singleFile)))).filter(
      (c): c is { candidate: CandidateFile; content: Buffer } => c !== undefined,
    );

    if (toParse.length > 0) this.pool.warm(Math.min(toParse.length, this.options.parsingProcesses));
    const compiled = this.transpiler.transpileAll(
      toParse.map((t) => t.candidate.path),
      new Map(toParse.map((t) => [t.candidate.path, t.content])),
    );
    // What the caller has been told so far: the view before this refresh, then each delivered step.
    let told = this.view;
    let untoldParsed: string[] = [];
    let untoldRemoved = removedFiles; // files that were non-DAG files carry no DAGs or errors
    const changesSinceTold = (): RefreshResult => {
      this.view = this.buildView();
      this.lastStats = {
        files: this.dagFiles.length,
        parsed: untoldParsed.length,
        durationMs: performance.now() - started,
      };
      return {
        parsedFiles: [...untoldParsed].sort(),
        removedFiles: untoldRemoved,
        ...diffViews(told, this.view),
        dagCode: this.sourcesOf([...untoldParsed].sort()),
        stats: this.lastStats,
      };
    };
    let delivering: Promise<void> = Promise.resolve();
    let deliveryQueued = false;
    const deliver = async (listener: RefreshProgress): Promise<void> => {
      deliveryQueued = false;
      // Files stopped by close() are no news to deliver; they are left to the result.
      if (this.closed) return;
      const changes = changesSinceTold();
      const view = this.view;
      try {
        await listener(changes);
      } catch {
        return; // not delivered: the same changes come again with the next step or the result
      }
      told = view;
      const delivered = new Set(changes.parsedFiles);
      untoldParsed = untoldParsed.filter((f) => !delivered.has(f));
      untoldRemoved = [];
    };
    const fileDone = (path: string): void => {
      untoldParsed.push(path);
      // Files finishing while a step is delivered go together in the next one.
      if (onProgress === undefined || deliveryQueued) return;
      deliveryQueued = true;
      delivering = delivering.then(() => deliver(onProgress));
    };
    await Promise.all(
      toParse.map(({ candidate, content }, i) =>
        this.parseFile(candidate, content, compiled[i]!).then(() => fileDone(candidate.path)),
      ),
    );
    await delivering;
    return changesSinceTold();
  }

  /** Decides whether a candidate must be evaluated; returns its content when it must. */
  private async needsParse(
    c: CandidateFile,
    force: boolean,
    singleFile: boolean,
  ): Promise<{ candidate: CandidateFile; content: Buffer } | undefined> {
    const state = this.files.get(c.path);
    if (!force && state !== undefined && state.mtimeMs === c.mtimeMs && state.size === c.size) {
      if (!state.isDagFile || !(await depsChanged(state.deps))) return undefined;
    }
    const content = await readFile(c.path).catch(() => undefined);
    if (content === undefined) return undefined; // deleted since the walk: gone at the next refresh
    const contentHash = sha256(content);
    const isDagFile = singleFile || !this.options.safeMode || looksLikeDagFile(content.toString("utf8"));
    if (!isDagFile) {
      this.files.set(c.path, {
        mtimeMs: c.mtimeMs,
        size: c.size,
        contentHash,
        isDagFile,
        deps: new Map(),
        dags: [],
        errors: [],
        source: null,
      });
      return undefined;
    }
    if (!force && state !== undefined && state.isDagFile && state.contentHash === contentHash) {
      // Touched but not changed, unless a helper module changed.
      state.mtimeMs = c.mtimeMs;
      state.size = c.size;
      if (!(await depsChanged(state.deps))) return undefined;
    }
    return { candidate: c, content };
  }

  private async parseFile(
    c: CandidateFile,
    content: Buffer,
    transpiled: Promise<TranspileResult>,
  ): Promise<void> {
    const fileloc = c.path;
    const state: FileState = {
      mtimeMs: c.mtimeMs,
      size: c.size,
      contentHash: sha256(content),
      isDagFile: true,
      deps: new Map(),
      dags: [],
      errors: [],
      source: content.toString("utf8"),
    };
    const compiled = await transpiled;
    state.deps = await depMtimes(compiled.inputs, fileloc);
    if (!compiled.ok) {
      state.errors = [importError(fileloc, compiled.error, compiled.line)];
      this.files.set(fileloc, state);
      return;
    }
    const outcome = await this.pool.evaluate({
      fileloc,
      compiledPath: compiled.compiledPath,
      key: compiled.key,
    });
    // Airflow names it by the file's stem: dag_processing.last_duration.<file>.
    this.options.metrics.timing("dag_processing.last_duration", outcome.durationMs, {
      file: basename(fileloc).replace(/\.[^.]*$/, ""),
    });
    this.options.logger?.debug(
      { fileloc, ok: outcome.ok, durationMs: Math.round(outcome.durationMs), cached: compiled.cached },
      "evaluated DAG file",
    );
    if (outcome.ok) {
      state.errors = outcome.problems.map((p) => importError(fileloc, p.message, p.line));
      const executors = this.options.executors;
      for (const d of outcome.dags) {
        // A task naming an executor this installation does not run fails its DAG (Airflow 2.10).
        const problems = executors === null ? [] : unconfiguredExecutorProblems(d, executors);
        for (const p of problems) state.errors.push(importError(fileloc, p.message, undefined));
        if (problems.length === 0) state.dags.push({ ...d, fileloc });
      }
    } else {
      state.errors = [importError(fileloc, outcome.error, outcome.line)];
    }
    this.files.set(fileloc, state);
  }

  /** Combines every file's DAGs in sorted file order; a repeated dag id is an error on the later file. */
  private buildView(): View {
    const dags = new Map<string, SerializedDag>();
    const errorsByFile = new Map<string, ImportError[]>();
    const paths = [...this.files.keys()].sort();
    for (const path of paths) {
      const state = this.files.get(path)!;
      const errors = [...state.errors];
      for (const dag of state.dags) {
        const first = dags.get(dag.dag_id);
        if (first !== undefined) {
          errors.push({
            filename: path,
            error: `DAG id "${dag.dag_id}" is already defined in ${first.fileloc}. DAG ids must be unique across the DAGs folder: rename one of them.`,
          });
          continue;
        }
        dags.set(dag.dag_id, dag);
      }
      if (errors.length > 0) errorsByFile.set(path, errors);
    }
    return { dags, errorsByFile };
  }
}

function diffViews(
  before: View,
  after: View,
): Pick<RefreshResult, "upsertedDags" | "removedDagIds" | "importErrorChanges"> {
  const upsertedDags = [...after.dags.values()].filter((d) => {
    const old = before.dags.get(d.dag_id);
    return old === undefined || old.fileloc !== d.fileloc || dagFingerprint(old) !== dagFingerprint(d);
  });
  const removedDagIds = [...before.dags.keys()].filter((id) => !after.dags.has(id)).sort();
  const files = new Set([...before.errorsByFile.keys(), ...after.errorsByFile.keys()]);
  const importErrorChanges = [...files]
    .sort()
    .filter((f) => JSON.stringify(before.errorsByFile.get(f)) !== JSON.stringify(after.errorsByFile.get(f)))
    .map((filename) => ({ filename, errors: after.errorsByFile.get(filename) ?? [] }));
  return { upsertedDags, removedDagIds, importErrorChanges };
}
