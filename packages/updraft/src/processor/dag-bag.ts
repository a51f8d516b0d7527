// One-shot parsing of a DAGs folder (or of one file), for the CLI and tests.
import { DagFileProcessor, type DagBag } from "./dag-file-processor.js";
import type { ProcessorOptions } from "./options.js";

/**
 * Parses every DAG file under `folder` (or the one file `folder` names) in isolated child
 * processes and returns the valid DAGs and the import errors.
 *
 * @example
 * ```ts
 * const { dags, importErrors } = await parseDagFolder("./dags", { timeoutSeconds: 30 });
 * ```
 */
export async function parseDagFolder(folder: string, options: ProcessorOptions = {}): Promise<DagBag> {
  const processor = new DagFileProcessor(folder, options);
  try {
    await processor.refresh();
    return processor.bag();
  } finally {
    await processor.close();
  }
}
