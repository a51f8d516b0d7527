// A StatsD listener on a real UDP socket for the metrics tests, and a fine-grained poll.
import { createSocket, type Socket } from "node:dgram";

export interface Udp {
  socket: Socket;
  port: number;
  /** Every StatsD line received so far. */
  lines: string[];
}

export async function listenUdp(): Promise<Udp> {
  const socket = createSocket("udp4");
  const lines: string[] = [];
  socket.on("message", (msg) =>
    lines.push(
      ...msg
        .toString("utf8")
        .split("\n")
        .filter((l) => l !== ""),
    ),
  );
  await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
  return { socket, port: socket.address().port, lines };
}

/** Polls `f` every 50 ms (timing tests need the moment) until it returns a value. */
export async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 60_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
