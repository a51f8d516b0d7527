// Fails when any installed package's `engines.node` excludes the oldest Node we support (the
// root package.json's `engines`), so a dependency bump cannot quietly drop Node 20 (as
// @fastify/static 10 did through content-disposition 3, which wants Node 22).
import { readFileSync } from "node:fs";
import semver from "semver";

const root = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
const lock = JSON.parse(readFileSync(new URL("../package-lock.json", import.meta.url), "utf8"));
const oldest = semver.minVersion(root.engines.node).version;
const bad = [];
for (const [path, pkg] of Object.entries(lock.packages)) {
  const wants = pkg.engines?.node;
  if (path === "" || typeof wants !== "string") continue;
  if (!semver.satisfies(oldest, wants)) {
    bad.push(`${path.replace(/^.*node_modules\//, "")}@${pkg.version} wants node ${wants}`);
  }
}
if (bad.length > 0) {
  console.error(
    `These packages do not support Node ${oldest} (package.json engines "${root.engines.node}"):\n  ${bad.join("\n  ")}\n` +
      "Pin an older version (npm view NAME@VERSION engines) or add an override in package.json.",
  );
  process.exit(1);
}
console.log(`engines: every package in package-lock.json supports Node ${oldest}.`);
