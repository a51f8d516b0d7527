/**
 * A container's output as the kubelet keeps it: stdout and stderr interleaved, one timestamp per
 * line, readable while it runs (follow) and after it ends. The log endpoint's options
 * (tailLines, sinceSeconds, sinceTime, timestamps, limitBytes) are applied here.
 */
import { EventEmitter } from "node:events";

interface Line {
  time: Date;
  text: string;
}

export class LogBuffer {
  private readonly lines: Line[] = [];
  private partial = "";
  private ended = false;
  private readonly emitter = new EventEmitter();

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  write(chunk: string): void {
    const text = this.partial + chunk;
    const parts = text.split("\n");
    this.partial = parts.pop() ?? "";
    for (const part of parts) this.push(part + "\n");
  }

  /** The process ended: a last line without a newline is kept as it is, and followers stop. */
  end(): void {
    if (this.partial !== "") this.push(this.partial);
    this.partial = "";
    this.ended = true;
    this.emitter.emit("end");
  }

  isEnded(): boolean {
    return this.ended;
  }

  /** The whole text (for assertions and Spark's driver). */
  text(): string {
    return this.lines.map((l) => l.text).join("") + this.partial;
  }

  /**
   * Streams the selected lines to `out`; with follow, keeps streaming new lines until the
   * container ends or `stop` is called. Returns a function that stops following.
   */
  read(options: LogOptions, out: (text: string) => void, done: () => void): () => void {
    const since = sinceTime(options);
    let selected = this.lines.filter((l) => since === undefined || l.time >= since);
    if (options.tailLines !== undefined)
      selected = options.tailLines === 0 ? [] : selected.slice(-options.tailLines);
    let budget = options.limitBytes ?? Infinity;
    const emit = (line: Line): boolean => {
      let text = options.timestamps
        ? `${line.time.toISOString().replace("Z", "000000Z")} ${line.text}`
        : line.text;
      if (budget <= 0) return false;
      if (Buffer.byteLength(text) > budget) text = Buffer.from(text).subarray(0, budget).toString();
      budget -= Buffer.byteLength(text);
      out(text);
      return budget > 0;
    };
    for (const line of selected) {
      if (!emit(line)) {
        done();
        return () => {};
      }
    }
    if (!options.follow || this.ended) {
      done();
      return () => {};
    }
    const onLine = (line: Line) => {
      if (!emit(line)) stop();
    };
    const stop = () => {
      this.emitter.off("line", onLine);
      this.emitter.off("end", stop);
      done();
    };
    this.emitter.on("line", onLine);
    this.emitter.on("end", stop);
    return () => {
      this.emitter.off("line", onLine);
      this.emitter.off("end", stop);
    };
  }

  private push(text: string): void {
    const line = { time: new Date(), text };
    this.lines.push(line);
    this.emitter.emit("line", line);
  }
}

export interface LogOptions {
  follow: boolean;
  tailLines?: number;
  sinceSeconds?: number;
  sinceTime?: string;
  timestamps: boolean;
  limitBytes?: number;
}

function sinceTime(options: LogOptions): Date | undefined {
  if (options.sinceSeconds !== undefined) return new Date(Date.now() - options.sinceSeconds * 1000);
  if (options.sinceTime !== undefined) return new Date(options.sinceTime);
  return undefined;
}
