// Run and task states: each has a colour AND a symbol, so that states are told apart without
// colour (colour-blind users, greyscale screenshots). styles.css holds the colours per theme;
// state-icons.css gives each mark its shape (the `symbol` below is for text: badges, titles).
import "./state-icons.css";

export interface StateLook {
  symbol: string;
  label: string;
}

const LOOKS: Record<string, StateLook> = {
  success: { symbol: "✓", label: "success" },
  failed: { symbol: "✗", label: "failed" },
  upstream_failed: { symbol: "↑", label: "upstream failed" },
  running: { symbol: "▶", label: "running" },
  queued: { symbol: "Q", label: "queued" },
  scheduled: { symbol: "S", label: "scheduled" },
  up_for_retry: { symbol: "↻", label: "up for retry" },
  up_for_reschedule: { symbol: "R", label: "up for reschedule" },
  restarting: { symbol: "⟲", label: "restarting" },
  deferred: { symbol: "D", label: "deferred" },
  skipped: { symbol: "»", label: "skipped" },
  removed: { symbol: "∅", label: "removed" },
  none: { symbol: "·", label: "no status" },
};

export function stateLook(state: string | null | undefined): StateLook {
  return LOOKS[state ?? "none"] ?? { symbol: "?", label: state ?? "no status" };
}

export const ALL_STATES = Object.keys(LOOKS);

/** A small coloured square with the state's symbol (its shape comes from state-icons.css). */
export function StateMark({ state, title }: { state: string | null | undefined; title?: string }) {
  const look = stateLook(state);
  return (
    <span
      className={`mark state-${state ?? "none"}`}
      title={title ?? look.label}
      aria-label={look.label}
      role="img"
    />
  );
}

/** The state as a pill with its symbol and its name. */
export function StateBadge({ state }: { state: string | null | undefined }) {
  const look = stateLook(state);
  return (
    <span className={`badge state-${state ?? "none"}`}>
      <span aria-hidden="true">{look.symbol}</span> {look.label}
    </span>
  );
}
