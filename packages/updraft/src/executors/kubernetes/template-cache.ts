// Pod templates: the built-in one, kubernetes_executor.pod_template_file (read at start, so that a
// broken file stops the scheduler with a clear message) and per-task executorConfig.podTemplateFile
// files (read on first use, then kept).
import { readFileSync } from "node:fs";
import type { V1Pod } from "@kubernetes/client-node";
import { UpdraftError } from "../../common/errors.js";
import { defaultPodTemplate } from "./worker-pod.js";

type YamlLoader = (text: string) => unknown;

export class TemplateCache {
  private readonly files = new Map<string, V1Pod>();
  private loadYaml: YamlLoader | null = null;
  private main: V1Pod = defaultPodTemplate();

  constructor(private readonly mainFile: string | undefined) {}

  /** Loads the YAML parser and the configured template. */
  async load(): Promise<void> {
    const k8s = await import("@kubernetes/client-node");
    this.loadYaml = (text) => k8s.loadYaml(text);
    if (this.mainFile !== undefined)
      this.main = this.read(this.mainFile, "kubernetes_executor.pod_template_file");
  }

  /** The template for a workload: its own file, else the configured one. */
  get(file: string | undefined): V1Pod {
    if (file === undefined) return this.main;
    let t = this.files.get(file);
    if (t === undefined) {
      t = this.read(file, "executorConfig.podTemplateFile");
      this.files.set(file, t);
    }
    return t;
  }

  private read(file: string, setting: string): V1Pod {
    let doc: unknown;
    try {
      const parse = this.loadYaml;
      if (parse === null) throw new Error("the YAML parser is not loaded");
      doc = parse(readFileSync(file, "utf8"));
    } catch (err) {
      throw new UpdraftError(
        "KUBERNETES_POD_TEMPLATE",
        `The pod template ${file} (${setting}) cannot be read: ${err instanceof Error ? err.message : String(err)}. Point ${setting} at a YAML file holding one Pod.`,
        { cause: err },
      );
    }
    const pod = doc as V1Pod | null;
    if (
      pod === null ||
      typeof pod !== "object" ||
      pod.kind !== "Pod" ||
      !Array.isArray(pod.spec?.containers)
    ) {
      throw new UpdraftError(
        "KUBERNETES_POD_TEMPLATE",
        `The pod template ${file} (${setting}) is not a Pod: it needs "kind: Pod" and spec.containers, with a container named "base" that runs the task.`,
      );
    }
    return pod;
  }
}
