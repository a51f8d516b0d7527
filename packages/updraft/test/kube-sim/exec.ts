/**
 * `POST|GET …/pods/{name}/exec` over WebSocket (the v5/v4 channel protocols that kubectl and the
 * official client's Exec speak): the command runs as a local process with the container's env,
 * working directory and rewritten mount paths, argv[0] mapped through its image, and `kill 1`
 * pointed at the container's process (confine.ts). Channel 1 is stdout, 2 stderr, 0 stdin, 3 the
 * final Status (exit code).
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import { confine } from "./confine.js";
import { prepareLaunch } from "./launch.js";
import type { PodRuntime } from "./pods-runtime.js";
import { signalGroup, signalNumber, spawnContainer } from "./processes.js";
import { badRequest, notFound, statusObject, type ApiError } from "./status.js";
import { acceptUpgrade, frame, readFrames, refuseUpgrade } from "./websocket.js";

const PROTOCOLS = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

/** Serves one exec: a function that ends it (for the simulator's close), or the code it was refused with. */
export function serveExec(
  runtime: PodRuntime,
  req: IncomingMessage,
  socket: Duplex,
  namespace: string,
  podName: string,
  query: URLSearchParams,
): { stop: () => void } | { refused: number } {
  const refuse = (err: ApiError) => {
    refuseUpgrade(socket, err.code, err.toStatus());
    return { refused: err.code };
  };
  const requested = query.getAll("command");
  let container = query.get("container") ?? "";
  const pod = runtime.podSpec(namespace, podName);
  if (pod === undefined) return refuse(notFound("pods", podName));
  if (container === "") {
    if (pod.containers.length !== 1) {
      return refuse(
        badRequest(
          `a container name must be specified for pod ${podName}, choose one of: [${pod.containers.map((c) => c.name).join(" ")}]`,
        ),
      );
    }
    container = pod.containers[0]!.name;
  }
  if (requested.length === 0) return refuse(badRequest("you must specify at least 1 command"));
  const target = runtime.execTarget(namespace, podName, container);
  if (typeof target === "string") return refuse(badRequest(target));
  const command = requested.map((a) => confine(a, target.pid));
  const launch = prepareLaunch(
    target.pod,
    { ...target.spec, command, args: [] },
    target.volumes,
    target.dir,
    target.images,
    target.faults,
    target.store,
  );
  if (launch.kind !== "ready") return refuse(badRequest(`container "${container}" cannot run commands now`));
  if (acceptUpgrade(req, socket, PROTOCOLS) === undefined) {
    return refuse(
      badRequest(`unable to upgrade connection: the client must offer one of ${PROTOCOLS.join(", ")}`),
    );
  }
  const send = (channel: number, data: Buffer) => {
    if (!socket.writableEnded) socket.write(frame(0x2, Buffer.concat([Buffer.from([channel]), data])));
  };
  const child = spawnContainer(launch.argv, launch.env, launch.cwd, query.get("stdin") === "true");
  let spawnError: Error | undefined;
  child.on("error", (err) => (spawnError = err));
  child.stdout!.on("data", (d: Buffer) => send(1, d));
  child.stderr!.on("data", (d: Buffer) => send(2, d));
  readFrames(
    socket,
    (data) => {
      if (data[0] === 0) child.stdin?.write(confine(data.subarray(1).toString(), target.pid));
      else if (data[0] === 255 && data[1] === 0) child.stdin?.end(); // v5: the client closed stdin
    },
    () => socket.end(),
  );
  const end = () => signalGroup(child, "SIGKILL");
  socket.on("close", end);
  socket.on("error", end);
  child.on("close", (code, signal) => {
    const exitCode =
      spawnError !== undefined && child.pid === undefined ? 126 : (code ?? 128 + signalNumber(signal));
    const status =
      exitCode === 0
        ? { metadata: {}, status: "Success" }
        : {
            ...statusObject(
              500,
              "NonZeroExitCode",
              spawnError !== undefined && child.pid === undefined
                ? `failed to exec in container: ${spawnError.message}`
                : `command terminated with non-zero exit code: error executing command [${command.join(" ")}], exit code ${exitCode}`,
              { causes: [{ reason: "ExitCode", message: String(exitCode) }] },
            ),
            code: undefined,
          };
    send(3, Buffer.from(JSON.stringify(status)));
    if (!socket.writableEnded) {
      socket.write(frame(0x8, Buffer.from([0x03, 0xe8])));
      socket.end();
    }
  });
  return {
    stop: () => {
      end();
      socket.destroy();
    },
  };
}
