// Debian's Chromium driven by playwright-core: headless, no sandbox (CI runs as root), no
// background networking; never a downloaded browser. Without /usr/bin/chromium the browser tests
// fail under CI=true (.ci/run installs it) and are skipped elsewhere, saying why.
import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = process.env["UPDRAFT_CHROMIUM"] ?? "/usr/bin/chromium";
export const ARTIFACTS = fileURLToPath(new URL("../test-artifacts/", import.meta.url));

/** Why the browser tests cannot run here, or null when they can. Throws under CI. */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const why = `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the UI's browser tests.`;
  if (process.env["CI"] === "true") throw new Error(`${why} CI must run them.`);
  console.warn(`\n*** SKIPPING the UI's browser tests: ${why}\n`);
  return why;
}

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-default-apps",
      "--disable-sync",
      "--no-first-run",
      "--disable-dev-shm-usage",
    ],
  });
}
