/**
 * Fails a test file that leaves a Database open or a child process running (registered as a
 * setup file in vitest.config.ts, so it runs in every test file). A leak makes later files slow
 * or flaky (a runner that spins for the rest of the run, a pool that holds connections), and it
 * is found far from its cause; here it fails the file that made it, as graphile-worker does.
 */
import { clearInterval, setInterval } from "node:timers";
import { afterAll } from "vitest";
import { baseline, describeLeaks, findLeaks } from "./find-leaks.js";

// Taken before the test file is imported: whatever runs now is not its doing.
const before = baseline();
// Sees grandchildren before their parent dies (a few /proc reads; node:timers, so that a test's
// fake timers do not stop it).
const sampling = setInterval(() => before.sample(), 200).unref();

// Registered before the test file's own hooks, so (sequence.hooks "stack") it runs after them.
afterAll(async () => {
  clearInterval(sampling);
  const leaks = await findLeaks(before);
  const message = describeLeaks(leaks);
  if (message === null) return;
  // Reported once: later files in this worker must not inherit the blame, or the CPU.
  for (const p of leaks.processes) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
  throw new Error(message);
});
