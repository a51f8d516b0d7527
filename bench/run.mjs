// Benchmark dispatcher: `npm run bench -- <workload> [args…]` runs bench/<workload>.mjs.
// Every workload prints JSON lines ({"workload": …}) for machines and a readable line for people.
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const workloads = readdirSync(here)
  .filter((f) => f.endsWith(".mjs") && f !== "run.mjs")
  .map((f) => f.slice(0, -4))
  .sort();
const [name, ...args] = process.argv.slice(2);

if (name === undefined || !workloads.includes(name)) {
  const problem = name === undefined ? "No workload given." : `Unknown workload "${name}".`;
  console.error(`${problem} Usage: npm run bench -- <workload> [args]. Workloads: ${workloads.join(", ")}.`);
  process.exit(name === undefined ? 0 : 1);
}
const file = join(here, `${name}.mjs`);
if (!existsSync(file)) process.exit(1);
process.argv = [process.argv[0], file, ...args];
const mod = await import(pathToFileURL(file).href);
if (typeof mod.main === "function") await mod.main(args);
