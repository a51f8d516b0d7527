// Bridges the SDK's registry (DAGs created while a file is imported) and the serialized form.
// Runs only inside the evaluation child process, never in the scheduler.
import { describeError, isUpdraftError } from "../common/errors.js";
import { serializeDag, timetableSummary } from "../model/serialize-dag.js";
import type { SerializedDag } from "../model/serialized-dag.js";
import { validateSerializedDag } from "../model/validate-dag.js";
import { takeRegisteredDags } from "../sdk/registry.js";

/** A problem found in one DAG file, reported as an import error. */
export interface FileProblem {
  message: string;
  /** 1-based line in the user's file, when known. */
  line?: number;
}

export interface CollectedFile {
  dags: SerializedDag[];
  problems: FileProblem[];
}

let current: string | null = null;

/** Call before importing the user's file: starts a fresh registry for that file. */
export function beginFileCollection(fileloc: string): void {
  takeRegisteredDags();
  current = fileloc;
}

function withLine(message: string, line: number | undefined): FileProblem {
  return line === undefined ? { message } : { message, line };
}

/** Call after the import resolved: returns the validated, serialized DAGs the file defined. */
export function finishFileCollection(): CollectedFile {
  const fileloc = current ?? "<unknown>";
  current = null;
  const built = takeRegisteredDags();
  const out: CollectedFile = { dags: [], problems: [] };
  if (built.length === 0) {
    out.problems.push({
      message: `No DAG found in ${fileloc}: the file imports updraft but never calls dag({ dagId: ... }, () => { ... }). Define a DAG, or add the file to .updraftignore if it is a helper module.`,
    });
    return out;
  }
  const seen = new Set<string>();
  for (const dag of built) {
    const line = dag.callSite.line(fileloc);
    if (seen.has(dag.dagId)) {
      out.problems.push(
        withLine(`DAG id "${dag.dagId}" is defined twice in this file. Give each DAG its own dagId.`, line),
      );
      continue;
    }
    seen.add(dag.dagId);
    try {
      const serialized = serializeDag(dag, fileloc, timetableSummary(dag));
      const problems = validateSerializedDag(serialized);
      if (problems.length > 0) {
        for (const p of problems) {
          const taskLine = p.taskId ? dag.getTask(p.taskId)?.callSite.line(fileloc) : undefined;
          out.problems.push(withLine(p.message, taskLine ?? line));
        }
        continue;
      }
      out.dags.push(serialized);
    } catch (err) {
      const message = isUpdraftError(err) ? err.message : `DAG "${dag.dagId}": ${describeError(err)}`;
      out.problems.push(withLine(message, line));
    }
  }
  return out;
}
