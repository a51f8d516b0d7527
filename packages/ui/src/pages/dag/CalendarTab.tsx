// The Calendar: a year of a DAG's runs, one cell per UTC day (GitHub-style, weeks as columns),
// coloured by how the day's runs ended and marked with a symbol where colour alone would not tell
// (failed ✗, some failed ±, running ▶, queued Q). Hover or focus shows the counts; arrow keys move
// between days; a click or Enter opens that day's runs in Browse → DAG runs (the Grid has no date
// filter).
import { useQuery } from "@tanstack/react-query";
import { useState, type KeyboardEvent } from "react";
import { api, unwrap } from "../../lib/api";
import { navigate, useLocation } from "../../lib/router";
import { countsText, dayOf, foldDays, OUTCOMES, yearWeeks, type DayCounts } from "./calendar-days";
import "./chart.css";
import "./calendar.css";

const DAY_MS = 86_400_000;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const WEEKDAYS = ["Mon", "", "Wed", "", "Fri", "", "Sun"];

export function CalendarTab({ dagId }: { dagId: string }) {
  const { pathname, search } = useLocation();
  const thisYear = new Date().getUTCFullYear();
  const asked = Number(search.get("year"));
  const year = Number.isInteger(asked) && asked > 1970 && asked < 3000 ? asked : thisYear;
  const calendar = useQuery({
    queryKey: ["dag", dagId, "calendar", year],
    queryFn: () =>
      unwrap(
        api.GET("/api/v1/ui/calendar/{dag_id}", {
          params: {
            path: { dag_id: dagId },
            query: {
              logical_date_gte: `${year}-01-01T00:00:00Z`,
              logical_date_lte: `${year}-12-31T23:59:59.999Z`,
            },
          },
        }),
      ),
    refetchInterval: (q) =>
      q.state.data?.dag_runs.some((d) => d.state === "running" || d.state === "queued")
        ? 3_000
        : year === thisYear
          ? 30_000
          : false,
  });
  const setYear = (y: number) => {
    const next = new URLSearchParams(search);
    next.set("year", String(y));
    navigate(`${pathname}?${next.toString()}`, { replace: true });
  };
  const days = calendar.data ? foldDays(calendar.data.dag_runs) : null;
  const totals: Record<string, number> = {};
  for (const d of days?.values() ?? [])
    for (const [s, n] of Object.entries(d.counts)) totals[s] = (totals[s] ?? 0) + n;
  return (
    <div className="calendar">
      <div className="chart-toolbar">
        <button type="button" onClick={() => setYear(year - 1)} aria-label={`Previous year, ${year - 1}`}>
          ‹
        </button>
        <label>
          Year{" "}
          <select value={year} onChange={(e) => setYear(Number(e.target.value))}>
            {Array.from({ length: 8 }, (_, i) => thisYear + 1 - i).map((y) => (
              <option key={y} value={y}>
                {y}
              </option>
            ))}
            {year > thisYear + 1 || year < thisYear - 6 ? <option value={year}>{year}</option> : null}
          </select>
        </label>
        <button type="button" onClick={() => setYear(year + 1)} aria-label={`Next year, ${year + 1}`}>
          ›
        </button>
        <span className="muted small">
          {calendar.data
            ? calendar.data.total_entries === 0
              ? `No runs in ${year}.`
              : `${calendar.data.total_entries} run${calendar.data.total_entries === 1 ? "" : "s"} in ${year}: ${countsText(totals)} · days in UTC`
            : "Loading…"}
        </span>
        <span className="spacer" />
        <CalendarLegend />
      </div>
      {calendar.error && <p className="error">{calendar.error.message}</p>}
      {days && (
        <YearGrid
          year={year}
          days={days}
          onOpen={(date) => {
            // Browse's date filters are datetime-local inputs (the browser's time zone): the UTC
            // day's bounds in local time.
            const start = new Date(`${date}T00:00:00Z`);
            const end = new Date(start.getTime() + DAY_MS - 1);
            navigate(
              `/browse/runs?dag_id=${encodeURIComponent(dagId)}&from=${encodeURIComponent(localInput(start))}&to=${encodeURIComponent(localInput(end))}`,
            );
          }}
        />
      )}
    </div>
  );
}

function YearGrid({
  year,
  days,
  onOpen,
}: {
  year: number;
  days: Map<string, DayCounts>;
  onOpen: (date: string) => void;
}) {
  const weeks = yearWeeks(year);
  const today = dayOf(Date.now());
  const inYear = today.startsWith(`${year}-`);
  const [focused, setFocused] = useState<string | null>(null);
  const [tip, setTip] = useState<string | null>(null);
  const current =
    focused !== null && focused.startsWith(`${year}-`) ? focused : inYear ? today : `${year}-01-01`;
  const move = (e: KeyboardEvent<HTMLElement>, date: string) => {
    const step = { ArrowUp: -1, ArrowDown: 1, ArrowLeft: -7, ArrowRight: 7 }[e.key];
    if (e.key === "Escape") setTip(null);
    if (step === undefined) return;
    e.preventDefault();
    const next = dayOf(new Date(`${date}T00:00:00Z`).getTime() + step * DAY_MS);
    if (!next.startsWith(`${year}-`)) return;
    setFocused(next);
    setTip(next);
    document.querySelector<HTMLElement>(`.cal-day[data-date="${next}"]`)?.focus();
  };
  // Month labels over the first week column that holds the month's 1st.
  const monthAt = new Map<number, string>();
  weeks.forEach((w, i) => {
    for (const d of w)
      if (d !== null && d.endsWith("-01")) monthAt.set(i, MONTHS[Number(d.slice(5, 7)) - 1] ?? "");
  });
  const tipDay = tip === null ? undefined : days.get(tip);
  return (
    <div className="chart-panel cal-panel">
      <div className="cal-scroll">
        <div className="cal-months" aria-hidden="true">
          {weeks.map((_, i) => (
            <span key={i}>{monthAt.get(i) ?? ""}</span>
          ))}
        </div>
        <div className="cal-body">
          <div className="cal-weekdays" aria-hidden="true">
            {WEEKDAYS.map((w, i) => (
              <span key={i}>{w}</span>
            ))}
          </div>
          <div className="cal-grid" role="grid" aria-label={`Runs per day in ${year}`}>
            {weeks.map((w, i) => (
              <div key={i} className="cal-week" role="row">
                {w.map((date, j) => {
                  if (date === null) return <span key={j} className="cal-blank" />;
                  const d = days.get(date);
                  const outcome = d?.outcome ?? "none";
                  const look = OUTCOMES.find((o) => o.id === outcome);
                  const label = `${longDate(date)}: ${d ? countsText(d.counts) : "no runs"}`;
                  const level = d === undefined ? 0 : Math.min(4, d.total);
                  return (
                    <button
                      key={date}
                      type="button"
                      role="gridcell"
                      className={`cal-day cal-${outcome} cal-l${level}${date === today ? " today" : date > today ? " future" : ""}`}
                      tabIndex={date === current ? 0 : -1}
                      aria-label={label}
                      title={label}
                      data-date={date}
                      data-outcome={outcome}
                      data-total={d?.total ?? 0}
                      data-success={d?.counts["success"] ?? 0}
                      data-failed={d?.counts["failed"] ?? 0}
                      onClick={() => onOpen(date)}
                      onKeyDown={(e) => move(e, date)}
                      onFocus={() => {
                        setFocused(date);
                        setTip(date);
                      }}
                      onBlur={() => setTip((t) => (t === date ? null : t))}
                      onMouseEnter={() => setTip(date)}
                      onMouseLeave={() => setTip((t) => (t === date ? null : t))}
                    >
                      <span aria-hidden="true">{look?.symbol}</span>
                    </button>
                  );
                })}
              </div>
            ))}
          </div>
        </div>
      </div>
      <div className="cal-tip" role="status" aria-live="polite">
        {tip === null ? (
          <span className="muted">
            Point at or focus a day (arrow keys move) for its runs; click or Enter opens them.
          </span>
        ) : (
          <>
            <strong>{longDate(tip)}</strong> (UTC):{" "}
            {tipDay
              ? `${tipDay.total} run${tipDay.total === 1 ? "" : "s"} — ${countsText(tipDay.counts)}`
              : "no runs"}
          </>
        )}
      </div>
    </div>
  );
}

function CalendarLegend() {
  return (
    <span className="cal-legend small muted" aria-label="Legend">
      {OUTCOMES.map((o) => (
        <span key={o.id} className="legend-item">
          <span className={`cal-day cal-${o.id} cal-l2`} aria-hidden="true">
            <span>{o.symbol}</span>
          </span>{" "}
          {o.label}
        </span>
      ))}
    </span>
  );
}

function longDate(date: string): string {
  return new Date(`${date}T00:00:00Z`).toLocaleDateString(undefined, {
    weekday: "short",
    year: "numeric",
    month: "short",
    day: "numeric",
    timeZone: "UTC",
  });
}

/** A date as a datetime-local input's value, to the millisecond. */
function localInput(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}
