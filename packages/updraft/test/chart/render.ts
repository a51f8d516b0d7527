// `helm template` of chart/ with the real helm (scripts/kube-tools.mjs), parsed into objects.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { kubeTools } from "../../../../scripts/kube-tools.mjs";
import { FIXTURES, PACKAGE_ROOT } from "../helpers.js";

export const REPO_ROOT = join(PACKAGE_ROOT, "..", "..");
export const CHART = join(REPO_ROOT, "chart");
export const PRODUCTION_VALUES = join(FIXTURES, "chart", "airflow-values.yaml");
export const LAB_VALUES = join(FIXTURES, "chart", "airflow-lab-values.yaml");

/** A rendered object, with the fields every test reads typed loosely. */
export type Manifest = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
};

export function helm(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(kubeTools().helm, args, { encoding: "utf8", timeout: 60_000 });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** `helm template airflow chart/ -n airflow` with these values files and --set flags. */
export function template(valuesFiles: string[] = [], sets: string[] = []): ReturnType<typeof helm> {
  return helm([
    "template",
    "airflow",
    CHART,
    "--namespace",
    "airflow",
    ...valuesFiles.flatMap((f) => ["--values", f]),
    ...sets.flatMap((s) => ["--set", s]),
  ]);
}

/** The rendered objects; throws with helm's message when rendering fails. */
export function render(valuesFiles: string[] = [], sets: string[] = []): Manifest[] {
  const r = template(valuesFiles, sets);
  if (r.status !== 0) throw new Error(`helm template failed (${r.status}): ${r.stderr}`);
  return parseAllDocuments(r.stdout)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`helm rendered invalid YAML: ${d.errors[0]!.message}`);
      return d.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null);
}

export function find(manifests: Manifest[], kind: string, name: string): Manifest {
  const m = manifests.find((x) => x.kind === kind && x.metadata.name === name);
  if (m === undefined) {
    const have = manifests.map((x) => `${x.kind}/${x.metadata.name}`).join(", ");
    throw new Error(`no ${kind}/${name} among ${have}`);
  }
  return m;
}

/** The NOTES.txt `helm install` prints, rendered offline (--dry-run=client needs no cluster). */
export function notes(valuesFiles: string[] = [], sets: string[] = []): string {
  const r = helm([
    "install",
    "airflow",
    CHART,
    "--namespace",
    "airflow",
    "--dry-run=client",
    ...valuesFiles.flatMap((f) => ["--values", f]),
    ...sets.flatMap((s) => ["--set", s]),
  ]);
  if (r.status !== 0) throw new Error(`helm install --dry-run failed (${r.status}): ${r.stderr}`);
  const at = r.stdout.indexOf("\nNOTES:\n");
  if (at < 0) throw new Error(`helm printed no NOTES:\n${r.stdout.slice(0, 2000)}`);
  return r.stdout.slice(at + "\nNOTES:\n".length);
}
