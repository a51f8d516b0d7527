// Shared by the processor and CLI tests: temporary folders and fixture copies, removed afterwards.
import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const FIXTURES = fileURLToPath(new URL("./fixtures/", import.meta.url));
export const PACKAGE_ROOT = fileURLToPath(new URL("../", import.meta.url));
export const UPDRAFT_BIN = join(PACKAGE_ROOT, "bin", "updraft.js");

const made: string[] = [];

/** A fresh temporary folder, removed by `cleanupTempDirs()`. */
export function tempDir(prefix = "updraft-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

/** Copies `test/fixtures/<name>` into a temporary folder (tests may change the copy) and returns it. */
export function copyFixture(name: string): string {
  const dir = join(tempDir(), name);
  cpSync(join(FIXTURES, name), dir, { recursive: true });
  return dir;
}

export function cleanupTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
