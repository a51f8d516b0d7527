// The log of one try: timestamped, levelled, masked lines in `workload.log_path`. The file is
// created in the background while `start` is in flight (new log folders cost milliseconds on a
// journaling file system), and lines are held in memory until the try is known to be ours and the
// file is open; if another runner owns the try, nothing is written.
import { closeSync, open, writeSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import { localLogPath } from "../model/log-path.js";
import type { SecretMasker } from "./masker.js";

export type LogLevel = "DEBUG" | "INFO" | "WARNING" | "ERROR";
/** Who wrote a line: the runner itself, or the task (its console, stdout/stderr, child processes). */
export type LogSource = "runner" | "task";

/** Where every task log line also goes (a Pod's stdout, for `kubectl logs`), or null. */
let echo: ((text: string) => void) | null = null;

/** Sends every line written to task logs from now on also to `write` (after masking). */
export function setTaskLogEcho(write: ((text: string) => void) | null): void {
  echo = write;
}

export class TaskLog {
  private fd: number | null = null;
  private opening: Promise<void> = Promise.resolve();
  private confirmed = false;
  private held: string[] = [];
  private readonly partial = new Map<string, { level: LogLevel; text: string }>();
  private readonly masker: SecretMasker;
  private closed = false;
  /** Why the file could not be opened, if it could not. */
  openError: unknown = null;

  constructor(masker: SecretMasker) {
    this.masker = masker;
  }

  /** The file written (the workload's log path, or where this machine keeps logs: localLogPath). */
  path = "";

  /** Starts creating the file (and its folders); lines are held until it is open and confirmed. */
  openInBackground(serverPath: string): void {
    const path = localLogPath(serverPath);
    this.path = path;
    this.opening = mkdir(dirname(path), { recursive: true })
      // A raw descriptor (not a FileHandle, which would close itself on garbage collection).
      .then(
        () =>
          new Promise<number>((resolve, reject) =>
            open(path, "a", (err, fd) => (err ? reject(err) : resolve(fd))),
          ),
      )
      .then(
        (fd) => {
          // Writes are synchronous from here on: one line costs microseconds and survives a crash.
          this.fd = fd;
          this.flush();
        },
        (err: unknown) => {
          this.openError = err;
          this.flush();
        },
      );
  }

  /** The try is ours: write what was held, and every line from now on. */
  confirm(): void {
    this.confirmed = true;
    this.flush();
  }

  /** The file is open, or could not be opened (lines then go only to the echo). */
  private get ready(): boolean {
    return this.fd !== null || this.openError !== null;
  }

  private flush(): void {
    if (!this.ready || !this.confirmed || this.held.length === 0) return;
    const text = this.held.join("");
    this.held = [];
    // Held lines are masked on the way out, since secrets become known while they are held.
    this.out(text);
  }

  private emit(text: string): void {
    if (this.ready && this.confirmed) this.out(text);
    else this.held.push(text);
  }

  private out(text: string): void {
    const masked = this.masker.mask(text);
    if (this.fd !== null) writeSync(this.fd, masked);
    echo?.(masked);
  }

  private format(level: LogLevel, source: LogSource, text: string): string {
    const stamp = new Date().toISOString();
    let out = "";
    for (const line of text.split("\n")) out += `${stamp} ${level} [${source}] ${line}\n`;
    return out;
  }

  /** Writes one message (which may span lines). */
  line(level: LogLevel, source: LogSource, text: string): void {
    if (this.closed) return;
    this.flushPartial();
    this.emit(this.format(level, source, text));
  }

  /** Writes a chunk of a stream; an unfinished last line waits for the rest or for `close`. */
  chunk(stream: string, level: LogLevel, chunk: string): void {
    if (this.closed) return;
    const pending = this.partial.get(stream);
    const text = (pending?.text ?? "") + chunk;
    const end = text.lastIndexOf("\n");
    if (end < 0) {
      this.partial.set(stream, { level, text });
      return;
    }
    this.partial.delete(stream);
    this.emit(this.format(level, "task", text.slice(0, end).replace(/\r$/gm, "")));
    if (end < text.length - 1) this.partial.set(stream, { level, text: text.slice(end + 1) });
  }

  private flushPartial(): void {
    if (this.partial.size === 0) return;
    const rest = [...this.partial.values()];
    this.partial.clear();
    for (const p of rest) this.emit(this.format(p.level, "task", p.text));
  }

  /** Writes everything held and closes the file; later writes are ignored. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.flushPartial();
    this.closed = true;
    await this.opening;
    this.flush();
    this.release();
  }

  /** Drops everything held and writes nothing: the try was not ours to log. */
  async discard(): Promise<void> {
    this.closed = true;
    this.held = [];
    this.partial.clear();
    await this.opening;
    this.release();
  }

  private release(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    this.held = [];
  }
}
