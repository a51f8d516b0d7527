// How many warm runner processes a worker keeps when worker.runner_processes is 0: twice the
// cores it may use (its container's CPU limit, common/cpu-cores.ts) (the LocalExecutor's own default, executors/local/pool-sizing.ts) divided among
// the workers alive on it, as the registry lists them. Two workers on one machine each sized for
// the whole of it ran twice the processes the cores keep busy: on two cores the queue's
// throughput went from 0.84× the LocalExecutor's to 0.85–0.99× (mean 0.92×, four runs) with the
// pools shared (npm run bench -- engine throughput --executor queue).
import { hostname } from "node:os";
import type { Redis } from "ioredis";
import { cpuCores } from "../common/cpu-cores.js";
import { listWorkers } from "../queue/index.js";

/** This worker's share of the machine's runner processes (at least 1). */
export async function runnerShare(client: Redis, prefix: string, staleAfterS: number): Promise<number> {
  const host = hostname();
  const records = await listWorkers(client, prefix, staleAfterS);
  const sharing = Math.max(1, records.filter((r) => r.alive && r.hostname === host).length);
  return Math.max(1, Math.round((2 * cpuCores()) / sharing));
}
