import { Writable } from "node:stream";
import pino, { type Logger } from "pino";

const LEVELS: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO",
  40: "WARN",
  50: "ERROR",
  60: "FATAL",
};

/**
 * A logger for people at a terminal: `12:00:01 INFO  scheduler: message key=value`. Components
 * take a pino Logger, so production can ship JSON instead (UPDRAFT_LOG_FORMAT=json).
 */
export function terminalLogger(level: string = process.env.UPDRAFT_LOG_LEVEL ?? "info"): Logger {
  if (process.env.UPDRAFT_LOG_FORMAT === "json") return pino({ level }, pino.destination(2));
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString("utf8").split("\n")) {
        if (!line) continue;
        try {
          const {
            level: lv,
            time,
            msg,
            component,
            pid: _pid,
            hostname: _h,
            err,
            ...rest
          } = JSON.parse(line) as Record<string, unknown>;
          const when = new Date(Number(time)).toISOString().slice(11, 19);
          const extras = Object.entries(rest)
            .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
            .join(" ");
          const error =
            err && typeof err === "object" ? ` ${String((err as { message?: unknown }).message ?? "")}` : "";
          const name = LEVELS[Number(lv)] ?? String(lv);
          process.stderr.write(
            `${when} ${name.padEnd(5)} ${component ? `${String(component)}: ` : ""}${String(msg ?? "")}${error}${extras ? `  ${extras}` : ""}\n`,
          );
        } catch {
          process.stderr.write(`${line}\n`);
        }
      }
      done();
    },
  });
  return pino({ level, base: null }, sink);
}
