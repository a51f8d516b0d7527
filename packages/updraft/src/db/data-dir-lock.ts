import { closeSync, linkSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { UpdraftError } from "../common/errors.js";

/** Name of the lock file inside the PGlite data directory. */
export const LOCK_FILE = "updraft.lock";

/** Whether a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readPid(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, "utf8").trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

function tryCreate(file: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, "wx", 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new UpdraftError("DB_LOCK_FAILED", `Cannot create the lock file ${file}: ${String(err)}`, {
      cause: err,
    });
  }
  try {
    writeSync(fd, `${process.pid}\n`);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * Moves a stale lock (its pid is dead) out of the way. The move is atomic, so of several
 * processes racing over one stale lock only one moves it; a live lock that appeared meanwhile is
 * put back with `link`, which never overwrites.
 */
function removeStale(file: string, stalePid: number): void {
  const aside = `${file}.stale-${process.pid}-${Date.now()}`;
  try {
    renameSync(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  const moved = readPid(aside);
  if (moved !== stalePid && moved !== null && pidAlive(moved)) {
    try {
      linkSync(aside, file);
    } catch {
      // Someone else holds a fresh lock already; ours fails below as it should.
    }
  }
  unlinkSync(aside);
}

/**
 * Takes the exclusive lock of a PGlite data directory: a file holding our pid, created with
 * O_EXCL. Another live holder means DB_LOCKED; a lock whose pid is dead is stale and taken over.
 * Returns the function that releases it.
 */
export function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 5; attempt++) {
    if (tryCreate(file)) {
      return () => {
        if (readPid(file) === process.pid) unlinkSync(file);
      };
    }
    const holder = readPid(file);
    if (holder !== null && pidAlive(holder)) {
      const self = holder === process.pid ? " (this process: close the other handle first)" : "";
      throw new UpdraftError(
        "DB_LOCKED",
        `The embedded database in ${dataDir} is in use by process ${holder}${self}. Only one process may open it: while the Updraft server runs, send CLI commands through the running server (its API), or stop it first. If no such process runs, delete ${file}.`,
        { details: { dataDir, pid: holder, lockFile: file } },
      );
    }
    if (holder !== null) removeStale(file, holder);
    else if (attempt > 0) {
      // An empty or unreadable lock: a holder between create and write, or garbage. Wait a little.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
      if (attempt === 3) removeStale(file, -1);
    }
  }
  throw new UpdraftError(
    "DB_LOCKED",
    `Could not take the lock ${file} of the embedded database after several tries; another process keeps taking it. Stop the other Updraft processes using ${dataDir}.`,
    { details: { dataDir, lockFile: file } },
  );
}
