/**
 * An exec'd command runs on the host, where PID 1 is the machine's init, not the container's
 * process. The ways Airflow stops its XCom sidecar (`kill -s SIGINT 1`, `kill -2 $(pgrep … -f
 * trap)`) are pointed at the container's own process instead; nothing else is confined.
 */

const KILL_ONE = /\bkill((?:\s+(?:-s\s+\w+|-\w+|--))*)\s+1(?![\w.])/g;
const PGREP = /\$\(\s*pgrep\b(?:[^()]|\$\([^()]*\))*\)/g;

export function confine(text: string, pid: number): string {
  // `-s SIGINT` becomes `-s INT`: the host's sh may be dash, whose kill knows only the short names.
  return text
    .replace(PGREP, String(pid))
    .replace(KILL_ONE, (_all, options: string) => `kill${options.replace(/-s\s+SIG(\w+)/, "-s $1")} ${pid}`);
}
