// Dates and durations as the UI shows them: local time, short, with the ISO value in a tooltip.

// One formatter for every date: toLocaleString with options builds a new one per call, and the
// Grid formats a date per row on every scroll frame.
const DATE_FORMAT = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "2-digit",
  hour: "2-digit",
  minute: "2-digit",
});

export function formatDate(iso: string | null | undefined): string {
  if (iso === null || iso === undefined) return "—";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return DATE_FORMAT.format(d);
}

export function formatDuration(
  startIso: string | null | undefined,
  endIso: string | null | undefined,
): string {
  if (startIso === null || startIso === undefined) return "—";
  const end = endIso === null || endIso === undefined ? Date.now() : new Date(endIso).getTime();
  return formatSeconds((end - new Date(startIso).getTime()) / 1000);
}

/** A duration in seconds as "1h 2m", "3m 4s" or "5s". */
export function formatSeconds(seconds: number): string {
  let s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}
