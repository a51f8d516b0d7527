// The IPC protocol between the pool (parent) and an evaluation child.
import type { SerializedDag } from "../model/serialized-dag.js";
import type { FileProblem } from "./collect.js";

/** Parent → child: evaluate one compiled DAG file. */
export interface EvaluateRequest {
  type: "evaluate";
  id: number;
  fileloc: string;
  compiledPath: string;
  key: string;
}

/** Child → parent. */
export type ChildMessage =
  | { type: "ready" }
  | {
      type: "result";
      id: number;
      ok: true;
      dags: SerializedDag[];
      problems: FileProblem[];
      durationMs: number;
    }
  | { type: "result"; id: number; ok: false; error: string; line?: number; durationMs: number };
