/**
 * Server-side printing: the `meta.k8s.io/v1` Table kubectl asks for (`Accept:
 * application/json;as=Table;v=v1;g=meta.k8s.io`), with the columns a real API server prints.
 */
import type { KubeObject, Resource } from "./types.js";

interface Column {
  name: string;
  type: string;
  format?: string;
  priority?: number;
  description?: string;
}

type Row = (o: KubeObject) => unknown[];

const NAME: Column = {
  name: "Name",
  type: "string",
  format: "name",
  description: "Name must be unique within a namespace.",
};
const AGE: Column = {
  name: "Age",
  type: "string",
  description: "CreationTimestamp is a timestamp representing the server time when this object was created.",
};

const PRINTERS: Record<Resource, { columns: Column[]; row: Row }> = {
  pods: {
    columns: [
      NAME,
      {
        name: "Ready",
        type: "string",
        description: "The aggregate readiness state of this pod for accepting traffic.",
      },
      { name: "Status", type: "string", description: "The aggregate status of the containers in this pod." },
      {
        name: "Restarts",
        type: "string",
        description:
          "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
      },
      AGE,
      { name: "IP", type: "string", priority: 1, description: "IP address allocated to the pod." },
      { name: "Node", type: "string", priority: 1, description: "Name of the node this pod is bound to." },
    ],
    row: (o) => {
      const spec = o.spec as { containers: unknown[]; nodeName?: string };
      const status = (o.status ?? {}) as {
        podIP?: string;
        containerStatuses?: { ready?: boolean; restartCount?: number }[];
      };
      const statuses = status.containerStatuses ?? [];
      const ready = statuses.filter((c) => c.ready === true).length;
      const restarts = statuses.reduce((n, c) => n + (c.restartCount ?? 0), 0);
      return [
        o.metadata.name,
        `${ready}/${spec.containers.length}`,
        podStatusText(o),
        String(restarts),
        age(o),
        status.podIP ?? "<none>",
        spec.nodeName ?? "<none>",
      ];
    },
  },
  secrets: {
    columns: [NAME, { name: "Type", type: "string" }, { name: "Data", type: "string" }, AGE],
    row: (o) => [
      o.metadata.name,
      (o.type as string | undefined) ?? "Opaque",
      String(Object.keys((o.data ?? {}) as object).length),
      age(o),
    ],
  },
  configmaps: {
    columns: [NAME, { name: "Data", type: "string" }, AGE],
    row: (o) => [o.metadata.name, String(Object.keys((o.data ?? {}) as object).length), age(o)],
  },
  namespaces: {
    columns: [NAME, { name: "Status", type: "string" }, AGE],
    row: (o) => [o.metadata.name, ((o.status ?? {}) as { phase?: string }).phase ?? "Active", age(o)],
  },
  events: {
    columns: [
      { name: "Last Seen", type: "string" },
      { name: "Type", type: "string" },
      { name: "Reason", type: "string" },
      { name: "Object", type: "string" },
      { name: "Message", type: "string" },
    ],
    row: (o) => {
      const inv = o.involvedObject as { kind: string; name: string };
      return [age(o), o.type, o.reason, `${inv.kind.toLowerCase()}/${inv.name}`, o.message];
    },
  },
  sparkapplications: {
    columns: [NAME, { name: "Status", type: "string" }, { name: "Attempts", type: "string" }, AGE],
    row: (o) => {
      const s = (o.status ?? {}) as { applicationState?: { state?: string }; submissionAttempts?: number };
      return [o.metadata.name, s.applicationState?.state ?? "", String(s.submissionAttempts ?? 0), age(o)];
    },
  },
};

export function wantsTable(accept: string | undefined): boolean {
  return accept !== undefined && /as=Table/.test(accept);
}

/** A Table of objects; `includeObject` as the API server takes it (None, Metadata, Object). */
export function toTable(
  resource: Resource,
  objects: KubeObject[],
  resourceVersion: string,
  includeObject: string | null,
  headers = true,
): Record<string, unknown> {
  const printer = PRINTERS[resource];
  return {
    kind: "Table",
    apiVersion: "meta.k8s.io/v1",
    metadata: { resourceVersion },
    columnDefinitions: headers
      ? printer.columns.map((c) => ({ priority: 0, format: "", description: "", ...c }))
      : [],
    rows: objects.map((o) => ({ cells: printer.row(o), object: embedded(o, includeObject) })),
  };
}

function embedded(o: KubeObject, includeObject: string | null): unknown {
  if (includeObject === "None") return undefined;
  if (includeObject === "Object") return o;
  return { kind: "PartialObjectMetadata", apiVersion: "meta.k8s.io/v1", metadata: o.metadata };
}

/** The STATUS column as kubectl computes it: Terminating, Init:N/M, a waiting or terminated reason, or the phase. */
export function podStatusText(o: KubeObject): string {
  const status = (o.status ?? {}) as {
    phase?: string;
    reason?: string;
    initContainerStatuses?: ContainerStatus[];
    containerStatuses?: ContainerStatus[];
  };
  let reason = status.reason ?? status.phase ?? "Unknown";
  const inits = status.initContainerStatuses ?? [];
  let initializing = false;
  for (const [i, c] of inits.entries()) {
    if (c.state.terminated?.exitCode === 0) continue;
    initializing = true;
    if (c.state.terminated !== undefined)
      reason = `Init:${c.state.terminated.reason ?? `ExitCode:${c.state.terminated.exitCode}`}`;
    else if (c.state.waiting?.reason !== undefined && c.state.waiting.reason !== "PodInitializing")
      reason = `Init:${c.state.waiting.reason}`;
    else reason = `Init:${i}/${inits.length}`;
    break;
  }
  if (!initializing) {
    let running = false;
    for (const c of [...(status.containerStatuses ?? [])].reverse()) {
      if (c.state.waiting?.reason !== undefined) reason = c.state.waiting.reason;
      else if (c.state.terminated?.reason !== undefined) reason = c.state.terminated.reason;
      else if (c.state.terminated !== undefined) reason = `ExitCode:${c.state.terminated.exitCode}`;
      else if (c.state.running !== undefined && c.ready === true) running = true;
    }
    if (reason === "Completed" && running) reason = "Running";
  }
  if (o.metadata.deletionTimestamp !== undefined) reason = "Terminating";
  return reason;
}

interface ContainerStatus {
  ready?: boolean;
  state: {
    waiting?: { reason?: string };
    running?: object;
    terminated?: { exitCode: number; reason?: string };
  };
}

/** kubectl's short durations: 45s, 3m20s, 25m, 5h12m, 3d. */
export function age(o: KubeObject): string {
  const seconds = Math.max(0, Math.floor((Date.now() - Date.parse(o.metadata.creationTimestamp)) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}
