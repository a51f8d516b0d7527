import { expect, test } from "vitest";
import { PendingWork } from "./pending-work.js";

test("a stopped PendingWork that is used again still wakes its loop for coalesced joins", async () => {
  let now = 1000;
  let wakes = 0;
  const work = new PendingWork({ now: () => now }, () => wakes++);
  const join = (runId: string) => ({ dagId: "d", runId, tasks: ["join"] });
  work.markDirty(join("r1"));
  expect(work.takeDirty(false)).toHaveLength(1); // the first join pass
  now += 5;
  work.markDirty(join("r2"));
  expect(work.takeDirty(false)).toHaveLength(0); // coalesced: a wake-up is timed for it
  work.stop();
  now += 5;
  wakes = 0;
  work.markDirty(join("r3"));
  expect(work.takeDirty(false)).toHaveLength(0);
  // The join waits for its coalescing delay (30 ms); then the loop is woken to take it.
  await new Promise((r) => setTimeout(r, 150));
  expect(wakes).toBe(1);
  work.stop();
});
