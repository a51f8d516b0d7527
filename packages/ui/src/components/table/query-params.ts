// Filters, sort and page in the URL's query, so that a filtered list is a link one can share
// (e.g. /browse/runs?dag_id=etl&state=failed). Changing a filter goes back to the first page.
import { navigate, useLocation } from "../../lib/router";

export interface QueryParams {
  search: URLSearchParams;
  get(key: string): string;
  /** Sets (or with null/"" removes) keys; any change but the offset's resets the offset. */
  set(changes: Record<string, string | null>): void;
}

export function useQueryParams(): QueryParams {
  const { search } = useLocation();
  return {
    search,
    get: (key) => search.get(key) ?? "",
    set(changes) {
      // The URL as it is now, not as it was at render: a debounced text filter calls this later,
      // after other filters may have changed.
      const next = new URLSearchParams(window.location.search);
      for (const [key, value] of Object.entries(changes)) {
        if (value === null || value === "") next.delete(key);
        else next.set(key, value);
      }
      if (!("offset" in changes)) next.delete("offset");
      const q = next.toString();
      navigate(`${window.location.pathname}${q ? `?${q}` : ""}`, { replace: true });
    },
  };
}

/** A `datetime-local` input's value as an ISO instant, or undefined when empty or invalid. */
export function localToIso(value: string): string | undefined {
  if (value === "") return undefined;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}
