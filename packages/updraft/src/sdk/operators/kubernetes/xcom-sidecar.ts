// XCom from a Pod without `exec`: Airflow's sidecar only sleeps, and the operator execs `cat` into
// it (a websocket the API server must proxy). Here the sidecar prints the file itself when it is
// told to stop (SIGTERM, which deleting the Pod sends), and the operator reads it through the log
// API it already uses. See docs/decisions/0024-kubernetes-operators.md.

/** Where the base container writes its result, as in Airflow. */
export const XCOM_MOUNT_PATH = "/airflow/xcom";
export const XCOM_FILE = `${XCOM_MOUNT_PATH}/return.json`;
export const XCOM_SIDECAR_NAME = "airflow-xcom-sidecar";
export const DEFAULT_XCOM_SIDECAR_IMAGE = "alpine";

const BEGIN = "__updraft_xcom_begin__";
const END = "__updraft_xcom_end__";
const EMPTY = "__updraft_xcom_empty__";

/**
 * Waits (sleeping in the background, so that a signal is handled at once); on SIGTERM or SIGINT
 * prints the result file between markers, or the empty marker, and exits 0. `$1` is the file:
 * a path in the arguments (not inside the script) is what tools that rewrite mount paths see.
 */
const SCRIPT = [
  `trap 'if [ -s "$1" ]; then echo ${BEGIN}; cat "$1"; echo; echo ${END}; else echo ${EMPTY}; fi; exit 0' TERM INT`,
  "while true; do sleep 1 & wait $!; done",
].join("\n");

type Obj = Record<string, unknown>;

/** The Pod with the xcom volume mounted in its first container and the sidecar added. */
export function addXcomSidecar(pod: Obj, image = DEFAULT_XCOM_SIDECAR_IMAGE): Obj {
  const spec = { ...(pod.spec as Obj) };
  const containers = [...(spec.containers as Obj[])];
  const mount = { name: "xcom", mountPath: XCOM_MOUNT_PATH };
  const base = containers[0] ?? {};
  containers[0] = { ...base, volumeMounts: [mount, ...((base.volumeMounts as Obj[] | undefined) ?? [])] };
  containers.push({
    name: XCOM_SIDECAR_NAME,
    image,
    command: ["sh", "-c", SCRIPT, XCOM_SIDECAR_NAME, XCOM_FILE],
    volumeMounts: [mount],
    resources: { requests: { cpu: "1m", memory: "10Mi" } },
  });
  spec.containers = containers;
  spec.volumes = [{ name: "xcom", emptyDir: {} }, ...((spec.volumes as Obj[] | undefined) ?? [])];
  return { ...pod, spec };
}

/** What the sidecar printed: the file's text, null when it was empty or missing, undefined when it printed nothing yet. */
export function xcomTextFromSidecarLog(lines: readonly string[]): string | null | undefined {
  if (lines.includes(EMPTY)) return null;
  const begin = lines.indexOf(BEGIN);
  if (begin < 0) return undefined;
  const end = lines.indexOf(END, begin + 1);
  if (end < 0) return undefined;
  return lines.slice(begin + 1, end).join("\n");
}
