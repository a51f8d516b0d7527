// The log viewer: a try's log as numbered lines, virtualized (@tanstack/react-virtual) so that only
// the lines on screen are in the DOM, whatever the log's size. Search with next/previous match and
// highlight, wrap toggle, download of the whole file, and follow (keep the newest line in view)
// while the try runs. Lines are text nodes: markup in a log is shown, never interpreted.
import { useVirtualizer } from "@tanstack/react-virtual";
import { useDeferredValue, useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import { downloadLog, useLogLines, type LogKey } from "./log-lines";
import { lineLevel, matchingLines, pieces } from "./log-search";
import "./log.css";

const LINE_H = 18;
/** A longer line is cut on screen (the download has it whole): one DOM node must stay small. */
const MAX_SHOWN = 10_000;

export function LogViewer({
  logKey,
  live,
  height = "60vh",
  defaultWrap = false,
}: {
  logKey: LogKey;
  live: boolean;
  height?: string;
  /** Wrap long lines from the start (for a narrow panel). */
  defaultWrap?: boolean;
}) {
  const log = useLogLines(logKey);
  const count = log.lines.count;
  const [wrap, setWrap] = useState(defaultWrap);
  const [follow, setFollow] = useState(live);
  const [query, setQuery] = useState("");
  const [at, setAt] = useState(0);
  const [downloadError, setDownloadError] = useState<string | null>(null);
  const scroller = useRef<HTMLDivElement>(null);
  const needle = useDeferredValue(query.toLowerCase());
  const matches = useMemo(
    () => matchingLines(log.lines.lines, count, needle),
    // version: the lines array grows in place.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [log.lines, log.version, count, needle],
  );
  const rows = useVirtualizer({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => LINE_H,
    overscan: 20,
    useFlushSync: false,
  });
  useEffect(() => setFollow(live), [live]);
  // Re-measure when wrapping changes the lines' heights.
  useEffect(() => rows.measure(), [wrap, rows]);
  useEffect(() => {
    if (follow && count > 0) rows.scrollToIndex(count - 1, { align: "end" });
  }, [follow, count, rows]);
  const current = matches.length === 0 ? -1 : Math.min(at, matches.length - 1);
  // A new search shows its first match (also when that match arrives with a later chunk).
  const firstMatch = matches[0];
  useEffect(() => {
    if (firstMatch === undefined) return;
    setFollow(false);
    rows.scrollToIndex(firstMatch, { align: "center" });
  }, [needle, firstMatch, rows]);
  const go = (step: number) => {
    if (matches.length === 0) return;
    const next = (current + step + matches.length) % matches.length;
    setAt(next);
    setFollow(false);
    rows.scrollToIndex(matches[next] ?? 0, { align: "center" });
  };
  const onSearchKey = (e: KeyboardEvent<HTMLInputElement>) => {
    if (e.key === "Enter") {
      e.preventDefault();
      go(e.shiftKey ? -1 : 1);
    } else if (e.key === "Escape" && query !== "") {
      e.stopPropagation();
      setQuery("");
    }
  };
  const currentLine = current >= 0 ? matches[current] : undefined;
  const digits = String(Math.max(count, 1)).length;
  return (
    <div className="log-viewer">
      <div className="log-toolbar" role="toolbar" aria-label="Log">
        <input
          type="search"
          className="log-search"
          placeholder="Search the log"
          aria-label="Search the log"
          value={query}
          onChange={(e) => {
            setQuery(e.target.value);
            setAt(0);
          }}
          onKeyDown={onSearchKey}
        />
        {needle !== "" && (
          <span className="log-matches muted small" aria-live="polite">
            {matches.length === 0 ? "no match" : `${current + 1} of ${matches.length}`}
          </span>
        )}
        <button
          type="button"
          onClick={() => go(-1)}
          disabled={matches.length === 0}
          aria-label="Previous match"
        >
          ↑
        </button>
        <button type="button" onClick={() => go(1)} disabled={matches.length === 0} aria-label="Next match">
          ↓
        </button>
        <span className="spacer" />
        <label className="log-toggle">
          <input type="checkbox" checked={wrap} onChange={(e) => setWrap(e.target.checked)} /> Wrap
        </label>
        {!log.done && (
          <label className="log-toggle">
            <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
          </label>
        )}
        <button
          type="button"
          onClick={() => {
            setDownloadError(null);
            downloadLog(logKey).catch((err: unknown) => setDownloadError((err as Error).message));
          }}
        >
          Download
        </button>
      </div>
      {downloadError && <p className="error small">{downloadError}</p>}
      <div
        ref={scroller}
        className={`log log-lines${wrap ? " wrap" : ""}`}
        style={{ maxHeight: height }}
        tabIndex={0}
        role="log"
        aria-label="Task log"
        onWheel={(e) => {
          if (e.deltaY < 0) setFollow(false);
        }}
      >
        {count === 0 ? (
          <p className="muted log-empty">
            {log.error ??
              (log.done ? "(empty log)" : log.version < 0 ? "Loading the log…" : "Waiting for the log…")}
          </p>
        ) : (
          <div className="log-inner" style={{ height: rows.getTotalSize() }}>
            {rows.getVirtualItems().map((v) => {
              const line = log.lines.lines[v.index] ?? "";
              const shown = line.length > MAX_SHOWN ? line.slice(0, MAX_SHOWN) : line;
              const level = lineLevel(line);
              return (
                <div
                  key={v.key}
                  data-index={v.index}
                  ref={wrap ? rows.measureElement : undefined}
                  className={`log-line${level ? ` ${level}` : ""}${v.index === currentLine ? " current" : ""}`}
                  style={{ transform: `translateY(${v.start}px)`, ...(wrap ? {} : { height: LINE_H }) }}
                >
                  <span className="log-no" style={{ width: `${digits + 1}ch` }} aria-hidden="true">
                    {v.index + 1}
                  </span>
                  <span className="log-text">
                    {pieces(shown, needle).map((p, i) => (p.match ? <mark key={i}>{p.text}</mark> : p.text))}
                    {shown !== line && (
                      <span className="muted">
                        {" "}
                        … ({line.length - MAX_SHOWN} more characters: download the log)
                      </span>
                    )}
                  </span>
                </div>
              );
            })}
          </div>
        )}
      </div>
      <p className="log-status muted small">
        {count.toLocaleString()} lines · {formatBytes(log.lines.bytes)}
        {log.done ? "" : " · loading…"}
        {log.error !== null && count > 0 ? ` · ${log.error}` : ""}
      </p>
    </div>
  );
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}
