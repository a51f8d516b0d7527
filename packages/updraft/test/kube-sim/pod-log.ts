/** GET …/pods/{name}/log: a container's output, with the kubelet's options and error messages. */
import type { ServerResponse } from "node:http";
import type { LogOptions } from "./logs.js";
import type { PodRuntime } from "./pods-runtime.js";
import { badRequest, notFound } from "./status.js";
import type { Store } from "./store.js";

export function servePodLog(
  store: Store,
  runtime: PodRuntime,
  namespace: string,
  podName: string,
  query: URLSearchParams,
  res: ServerResponse,
  onStop: (stop: () => void) => void,
): void {
  const pod = store.get("pods", namespace, podName);
  if (pod === undefined) throw notFound("pods", podName);
  const spec = pod.spec as { containers: { name: string }[]; initContainers?: { name: string }[] };
  const all = [...(spec.initContainers ?? []), ...spec.containers].map((c) => c.name);
  let name = query.get("container") ?? "";
  if (name === "") {
    if (spec.containers.length !== 1) {
      throw badRequest(
        `a container name must be specified for pod ${podName}, choose one of: [${spec.containers.map((c) => c.name).join(" ")}]`,
      );
    }
    name = spec.containers[0]!.name;
  }
  if (!all.includes(name)) throw badRequest(`container ${name} is not valid for pod ${podName}`);
  const container = runtime.container(namespace, podName, name);
  const previous = query.get("previous") === "true";
  const buffer = previous ? container?.previousLog : container?.log;
  if (container === undefined || buffer === undefined) {
    throw badRequest(
      previous
        ? `previous terminated container "${name}" in pod "${podName}" not found`
        : `container "${name}" in pod "${podName}" is waiting to start: ContainerCreating`,
    );
  }
  if (
    !previous &&
    "waiting" in container.state &&
    container.restartCount === 0 &&
    container.child === undefined
  ) {
    const reason = container.state.waiting.reason;
    const why =
      reason === "ErrImagePull" || reason === "ImagePullBackOff"
        ? "trying and failing to pull image"
        : reason;
    throw badRequest(`container "${name}" in pod "${podName}" is waiting to start: ${why}`);
  }
  const number = (k: string) => {
    const v = query.get(k);
    return v === null || v === "" ? undefined : Number(v);
  };
  const options: LogOptions = {
    follow: query.get("follow") === "true",
    timestamps: query.get("timestamps") === "true",
  };
  const tail = number("tailLines");
  if (tail !== undefined && tail >= 0) options.tailLines = tail;
  const since = number("sinceSeconds");
  if (since !== undefined) options.sinceSeconds = since;
  const sinceTime = query.get("sinceTime");
  if (sinceTime !== null && sinceTime !== "") options.sinceTime = sinceTime;
  const limit = number("limitBytes");
  if (limit !== undefined) options.limitBytes = limit;
  res.writeHead(200, { "Content-Type": "text/plain", "Transfer-Encoding": "chunked" });
  if (options.follow) res.flushHeaders();
  const stop = buffer.read(
    options,
    (text) => {
      if (!res.writableEnded) res.write(text);
    },
    () => {
      if (!res.writableEnded) res.end();
    },
  );
  res.on("close", stop);
  onStop(() => {
    stop();
    if (!res.writableEnded) res.end();
  });
}
