// `npm run kube-sim -- --kubeconfig PATH [--port N] [--images FILE.json]`: the Kubernetes API
// simulator (packages/updraft/test/kube-sim/, a test tool, not part of the published package) in
// the foreground. Bundles its CLI with esbuild (a dependency of packages/updraft) and runs it in
// this process, so that Ctrl-C reaches it directly and kills its Pods' processes.
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, "packages", "updraft");
const require = createRequire(join(pkg, "package.json"));
const { build } = require("esbuild");
// Under the workspace's node_modules, so that its external imports (kubernetes-models, yaml) resolve.
// One file per process: two simulators starting at once never read each other's half-written bundle.
const outfile = join(root, "node_modules", ".cache", "kube-sim", `cli-${process.pid}.mjs`);
await build({
  entryPoints: [join(pkg, "test", "kube-sim", "cli.ts")],
  bundle: true,
  platform: "node",
  format: "esm",
  packages: "external",
  outfile,
  logLevel: "warning",
});
// The image `updraft` (the KubernetesExecutor's default) runs this checkout's CLI.
process.env.KUBE_SIM_UPDRAFT_BIN ??= join(pkg, "bin", "updraft.js");
try {
  // Resolves once the simulator listens; it then runs until SIGINT or SIGTERM.
  await import(pathToFileURL(outfile).href);
} finally {
  rmSync(outfile, { force: true });
}
