/** Shapes shared by the simulator's parts. Objects are plain JSON, as they travel over HTTP. */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  resourceVersion: string;
  creationTimestamp: string;
  generateName?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean }[];
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  generation?: number;
  finalizers?: string[];
}

/** Any stored object: apiVersion, kind, metadata and whatever else its kind holds. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

/** The resources this simulator serves (plural names, as in the REST paths). */
export type Resource = "pods" | "secrets" | "configmaps" | "events" | "namespaces" | "sparkapplications";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

/** One change, as kept in the store's bounded history and sent to watches. */
export interface StoreEvent {
  resource: Resource;
  type: WatchEventType;
  object: KubeObject;
  /** The object before the change (MODIFIED, DELETED): lets a filtered watch turn a change out of its selector into DELETED, as the API server does. */
  previous?: KubeObject;
  rv: number;
}

/** How an image's containers run on this machine. */
export interface ImageSpec {
  /** The image's ENTRYPOINT: used when the container has no `command`. */
  entrypoint?: string[];
  /** The image's CMD: used as arguments when the container has neither `command` nor `args`. */
  cmd?: string[];
  /**
   * Maps a container argv[0] to a local argv prefix, e.g.
   * `{ updraft: [process.execPath, "/abs/packages/updraft/bin/updraft.js"] }`. An argv[0] not in the
   * map runs as is (found on the host's PATH).
   */
  commands?: Record<string, string[]>;
}
