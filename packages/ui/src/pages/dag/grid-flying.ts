// Whether the Grid's screen is flying past runs faster than their pages could arrive. A page (50
// runs) takes the API server, PostgreSQL and the browser ~50–100 ms of CPU to answer and read; at a
// screen a frame (the scrollbar dragged, a fling, the bench) a page's rows are gone before it
// arrives, and fetching every page flown past (17 a second) took the cores the scroll needed
// (bench: ui, CPU during a pass). While flying, the Grid fetches no new page; when the screen slows
// down or stops, it fetches what is then on screen and near it.
import { useEffect, useReducer, useRef } from "react";

/** The rows the screen may move within WINDOW_MS before it counts as flying (400 rows a second). */
const FLYING_ROWS = 100;
const WINDOW_MS = 250;

/** `row` is the first row on screen; true while it moved more than FLYING_ROWS in the last WINDOW_MS. */
export function useFlying(row: number): boolean {
  const seen = useRef<{ at: number; row: number }[]>([]);
  // A render when the window has passed: a scroll that stops renders no more, but must fetch.
  const [, recheck] = useReducer((n: number) => n + 1, 0);
  const now = performance.now();
  const samples = seen.current;
  if (samples.at(-1)?.row !== row) samples.push({ at: now, row });
  while (samples.length > 1 && (samples[0]?.at ?? now) < now - WINDOW_MS) samples.shift();
  let lo = row;
  let hi = row;
  for (const s of samples) {
    lo = Math.min(lo, s.row);
    hi = Math.max(hi, s.row);
  }
  const flying = hi - lo > FLYING_ROWS;
  useEffect(() => {
    if (!flying) return;
    const timer = setTimeout(recheck, WINDOW_MS);
    return () => clearTimeout(timer);
  });
  return flying;
}
