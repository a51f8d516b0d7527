// A fresh PGlite data directory starts from a dump of one that initdb just made, kept in the
// user's cache: initdb in WebAssembly is most of a first start (3–7 s on two cores, against ~1 s
// to load the dump). The dump is taken before any migration, so what starts from it is exactly
// what initdb makes; it is keyed by the PGlite version, which fixes initdb's output.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** Where the dump is kept: $XDG_CACHE_HOME/updraft, else ~/.cache/updraft. */
export function defaultInitTemplateDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env["XDG_CACHE_HOME"];
  return join(xdg !== undefined && xdg !== "" ? xdg : join(homedir(), ".cache"), "updraft");
}

function pgliteVersion(): string {
  const pkg = readFileSync(new URL("../package.json", import.meta.resolve("@electric-sql/pglite")), "utf8");
  return (JSON.parse(pkg) as { version: string }).version;
}

function templateFile(dir: string): string {
  return join(dir, `pglite-initdb-${pgliteVersion()}.tar`);
}

/** True when `pgdata` holds no database yet (initdb would run). */
export function isFreshDataDir(pgdata: string): boolean {
  return !existsSync(join(pgdata, "PG_VERSION"));
}

/** The dump for this PGlite version, or undefined when there is none (or it cannot be read). */
export function readInitTemplate(dir: string): Uint8Array | undefined {
  try {
    const bytes = readFileSync(templateFile(dir));
    // A whole ArrayBuffer of its own, so that it can be moved to the worker thread.
    return new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  } catch {
    return undefined;
  }
}

/**
 * Keeps `dump` as the template. Written under a unique name, then renamed: concurrent first
 * starts never read half a file. A cache that cannot be written is no error: the next fresh
 * directory runs initdb again.
 */
export function writeInitTemplate(dir: string, dump: Uint8Array): void {
  const file = templateFile(dir);
  const partial = `${file}.${process.pid}.${randomBytes(4).toString("hex")}`;
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(partial, dump);
    renameSync(partial, file);
  } catch {
    try {
      rmSync(partial, { force: true });
    } catch {
      // The folder is not one (ENOTDIR): nothing was written.
    }
  }
}

/** Drops the dump (it failed to load); the next fresh directory makes a new one. */
export function removeInitTemplate(dir: string): void {
  rmSync(templateFile(dir), { force: true });
}
