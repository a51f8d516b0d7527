// Where the Kubernetes operators write: the runner captures stdout/stderr and console into the
// task log, so a container's lines and the operator's own messages land there in order.

/** Writes a container's line into the task log, prefixed with its name as Airflow does. */
export function containerLine(container: string, line: string): void {
  process.stdout.write(`[${container}] ${line}\n`);
}

/** The operator's own message at a level the task log shows. */
export function operatorLog(level: "INFO" | "WARNING" | "ERROR", text: string): void {
  if (level === "INFO") console.info(text);
  else if (level === "WARNING") console.warn(text);
  else console.error(text);
}
